"""Organizations resolved where their kind works (docs/resolution.md, "Organizations").

A cartel is one organization wherever it is named, under any of its names; a DTO within a
state; a street gang or crew within a city. Records of one name in two places are one
organization only when the records say so: the same resolved person is a member of both.
The operation is small and written here, through ingest and ``resolve``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from lastmile.ingest import ingest_paths
from lastmile.resolve.features import org_locality, org_name_keys
from lastmile.resolve.judge import judge_pair
from lastmile.resolve.run import resolve
from lastmile.store import Workspace, open_workspace
from tests.test_resolve import _write, write_agencies, write_investigations

INVESTIGATIONS = [
    # id, agency, division, state, city
    ("LA1", "A1", "Los Angeles", "CA", "Los Angeles"),
    ("LA2", "A2", "Los Angeles", "CA", "LOS ANGELES"),
    ("RIV", "A1", "Los Angeles", "CA", "Riverside"),
    ("SF", "A3", "San Francisco", "CA", "San Francisco"),
    ("PHX", "A2", "Phoenix", "AZ", "Phoenix"),
    ("TUC", "A1", "Phoenix", "AZ", "Tucson"),
    ("CHI", "A3", "Chicago", "IL", "Chicago"),
]

ORGS = [
    # id, investigation, name, kind, aliases
    ("O-CJNG-LA", "LA1", "CJNG", "cartel", ""),
    ("O-CJNG-PHX", "PHX", "Cártel de Jalisco Nueva Generación", "cartel", ""),
    ("O-CJNG-CHI", "CHI", "Jalisco New Generation Cartel", "cartel", "Jalisco Cartel"),
    ("O-SIN-CHI", "CHI", "Sinaloa Cartel", "cartel", "CDS"),
    # One gang name in two cities (and written two ways), by two agencies in one of them.
    ("O-ESL-LA1", "LA1", "Eastside Locos", "gang", ""),
    ("O-ESL-LA2", "LA2", "East Side Locos", "gang", "ESL"),
    ("O-ESL-RIV", "RIV", "Eastside Locos", "gang", ""),
    ("O-ESL-SF", "SF", "EastsideLocos", "gang", ""),
    # A gang and a crew of one name in one city: two groups.
    ("O-NSH-GANG", "LA1", "Northside Hustlers", "gang", ""),
    ("O-NSH-CREW", "LA2", "NorthsideHustlers", "crew", ""),
    # A crew of one name in two cities whose member is one person: one crew.
    ("O-WSB-LA", "LA1", "Westside Bloc", "crew", ""),
    ("O-WSB-RIV", "RIV", "Westside Bloc", "crew", ""),
    # A DTO named in two cities of one state is one; in another state, another.
    ("O-GUZ-PHX", "PHX", "Guzmán DTO", "dto", "Los Guzmán"),
    ("O-GUZ-TUC", "TUC", "Guzman Drug Trafficking Organization", "dto", ""),
    ("O-GUZ-CHI", "CHI", "Guzman Organization", "dto", ""),
]

SUBJECTS = [
    # id, investigation, name, dob, member of
    ("S-MARCUS-LA", "LA1", "Marcus Delgado", "1991-04-12", "O-WSB-LA"),
    ("S-MARCUS-RIV", "RIV", "DELGADO, Marcus", "1991-04-12", "O-WSB-RIV"),
    ("S-ESL-LA", "LA1", "Tomas Reyes", "1995-02-02", "O-ESL-LA1"),
    ("S-ESL-RIV", "RIV", "Kevin Moore", "1988-08-08", "O-ESL-RIV"),
    ("S-ESL-SF", "SF", "Omar Patel", "1979-09-09", "O-ESL-SF"),
]


def make_operation(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    write_agencies(folder)
    write_investigations(folder, INVESTIGATIONS)
    _write(
        folder,
        "organizations",
        ["organization_id", "investigation_id", "name", "kind", "aliases"],
        [
            {"organization_id": o, "investigation_id": i, "name": n, "kind": k, "aliases": a}
            for o, i, n, k, a in ORGS
        ],
    )
    _write(
        folder,
        "subjects",
        ["subject_id", "investigation_id", "full_name", "dob"],
        [
            {"subject_id": s, "investigation_id": i, "full_name": n, "dob": d}
            for s, i, n, d, _ in SUBJECTS
        ],
    )
    _write(
        folder,
        "relationships",
        ["relationship_id", "investigation_id", "kind", "from_id", "to_id"],
        [
            {
                "relationship_id": f"R{n}",
                "investigation_id": i,
                "kind": "member_of",
                "from_id": s,
                "to_id": o,
            }
            for n, (s, i, _, _, o) in enumerate(SUBJECTS)
        ],
    )


def entity(ws: Workspace, record_id: str) -> str:
    rows = ws.store.rows("SELECT entity_id FROM entity_members WHERE record_id = ?", (record_id,))
    assert len(rows) == 1, record_id
    return str(rows[0][0])


@pytest.fixture(scope="module")
def workspace_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("orgs")
    make_operation(folder / "op")
    path = folder / "ws.duckdb"
    with open_workspace(path) as ws:
        result = ingest_paths(ws, [folder / "op"], rejects=folder / "rejects.csv")
        assert result.rejected == 0
        # The analyst's word that the crew's two members are one man, and that the gang's
        # members in two cities are not: the persons are settled, whatever the model says.
        judge_pair(ws, "same", "S-MARCUS-LA", "S-MARCUS-RIV", analyst="test")
        judge_pair(ws, "different", "S-ESL-LA", "S-ESL-RIV", analyst="test")
        resolve(ws)
    return path


def test_a_cartel_is_one_organization_under_its_names_across_states(
    workspace_path: Path,
) -> None:
    with open_workspace(workspace_path) as ws:
        cjng = {entity(ws, o) for o in ("O-CJNG-LA", "O-CJNG-PHX", "O-CJNG-CHI")}
        assert len(cjng) == 1
        assert entity(ws, "O-SIN-CHI") not in cjng


def test_one_gang_name_in_two_cities_is_two_organizations(workspace_path: Path) -> None:
    with open_workspace(workspace_path) as ws:
        # In one city (its name written two ways, the city in capitals) it is one gang.
        assert entity(ws, "O-ESL-LA1") == entity(ws, "O-ESL-LA2")
        # In Riverside and San Francisco it is another gang each, though all are in one
        # state and write the name alike.
        gangs = {entity(ws, o) for o in ("O-ESL-LA1", "O-ESL-RIV", "O-ESL-SF")}
        assert len(gangs) == 3


def test_a_gang_and_a_crew_of_one_name_in_one_city_are_two(workspace_path: Path) -> None:
    with open_workspace(workspace_path) as ws:
        assert entity(ws, "O-NSH-GANG") != entity(ws, "O-NSH-CREW")


def test_a_member_shared_across_cities_makes_one_crew(workspace_path: Path) -> None:
    with open_workspace(workspace_path) as ws:
        assert entity(ws, "S-MARCUS-LA") == entity(ws, "S-MARCUS-RIV")
        assert entity(ws, "O-WSB-LA") == entity(ws, "O-WSB-RIV")


def test_a_dto_is_one_within_its_state_and_another_beyond(workspace_path: Path) -> None:
    with open_workspace(workspace_path) as ws:
        assert entity(ws, "O-GUZ-PHX") == entity(ws, "O-GUZ-TUC")
        assert entity(ws, "O-GUZ-CHI") != entity(ws, "O-GUZ-PHX")


def test_organization_ids_stay_the_same_on_a_rerun(workspace_path: Path) -> None:
    with open_workspace(workspace_path) as ws:
        before = {o: entity(ws, o) for o, *_ in ORGS}
        resolve(ws)
        after = {o: entity(ws, o) for o, *_ in ORGS}
    assert before == after


def test_the_locality_of_each_kind() -> None:
    assert org_locality("cartel", "Los Angeles", "CA") == ""
    assert org_locality("gang", "Los Ángeles", "ca") == org_locality("gang", "LOS ANGELES", "CA")
    assert org_locality("gang", "Los Angeles", "CA") != org_locality("crew", "Los Angeles", "CA")
    assert org_locality("gang", "Riverside", "CA") != org_locality("gang", "Los Angeles", "CA")
    # No city: the state stands in; a DTO, a business or an unknown kind work a state.
    assert org_locality("gang", None, "CA") == org_locality("dto", "Riverside", "CA") == "CA"
    assert org_locality(None, "Riverside", "CA") == org_locality("business", "Fresno", "CA")
    # A cartel's name is one key everywhere; any other kind's carries its locality.
    assert org_name_keys("CJNG", None, "dto", "CA") == org_name_keys(
        "Jalisco New Generation Cartel", None, "cartel", "IL/chicago"
    )
    assert org_name_keys("Eastside Locos", None, "gang", "CA/riverside") != org_name_keys(
        "Eastside Locos", None, "gang", "CA/los angeles"
    )
