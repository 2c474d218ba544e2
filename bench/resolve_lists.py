"""Resolution on other agencies' lists: people of many countries, written by many clerks.

    python bench/resolve_lists.py [--persons 2000] [--seed 1] [--out DIR] [--no-plain]

A check that person resolution is not fitted to lastmile's own synthetic operation, whose
people are US census and Spanish names. The people here are drawn with faker's locales
(names and addresses of sixteen countries, some in Cyrillic, Hangul, Arabic and Persian
script) by a
generator that shares nothing with ``lastmile.synth``. Each person is written into one to
five subject records of different case files of eight made-up agencies, and each record is
corrupted the way record-linkage research corrupts test data (Christen and Vatsalan's GeCo
generator; Christen, *Data Matching*, 2012, ch. 12): typing errors (a key's neighbour, a
letter dropped, doubled or two swapped), names in capitals, accents dropped, given and family
names swapped, a title before a name ("Dr.", "Herr", the engineer), a second given name cut
to an initial or dropped, a name transliterated by another clerk's system ("Vsevolod",
"Wsewolod"), dates of birth missing, with day and month swapped or a digit mistyped, and
addresses, sexes, phones and passport numbers given on some records only.

Two traps hold precision to account: namesakes (another person given the same name, with
another date of birth and address) and siblings (one family name, address and phone, another
given name).

Prints JSON: lastmile's pairwise precision, recall, F1 and B-cubed F1 on persons, overall and
for the persons written in another script, and plain Splink's on the same records (names and
date of birth, as in ``bench/resolve.py``). ``--out DIR`` keeps the generated folder (an
interchange folder with ``truth/records.csv``) for ``bench/resolve.py --folder DIR``.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import sys
import tempfile
import time
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import TypeVar

from anyascii import anyascii
from faker import Faker

sys.path.insert(0, str(Path(__file__).resolve().parent))

from lastmile.ingest import ingest_paths
from lastmile.resolve.run import resolve
from lastmile.store import open_workspace
from resolve import plain_splink_view, scores

# Locale, weight, the two-letter country of its passports. Non-Latin scripts are written in
# their own script on some records and transliterated on others.
LOCALES = [
    ("en_GB", 8, "GB"),
    ("de_DE", 8, "DE"),
    ("fr_FR", 7, "FR"),
    ("it_IT", 6, "IT"),
    ("pl_PL", 7, "PL"),
    ("ro_RO", 5, "RO"),
    ("tr_TR", 6, "TR"),
    ("vi_VN", 8, "VN"),
    ("pt_BR", 7, "BR"),
    ("nl_NL", 5, "NL"),
    ("hu_HU", 4, "HU"),
    ("ru_RU", 6, "RU"),
    ("uk_UA", 4, "UA"),
    ("ko_KR", 3, "KR"),
    ("ar_SA", 4, "SA"),
    ("fa_IR", 3, "IR"),
]
OTHER_SCRIPT = {"ru_RU", "uk_UA", "ko_KR", "ar_SA", "fa_IR"}
AGENCIES = [
    ("XA-PD", "Example City Police Department", "local"),
    ("XB-SO", "Example County Sheriff's Office", "local"),
    ("XC-SP", "Example State Police", "state"),
    ("XD-TF", "Example Tribal Police", "tribal"),
    ("XE-FED", "Example Federal Bureau", "federal"),
    ("XF-PD", "Sample Town Police Department", "local"),
    ("XG-SO", "Sample Parish Sheriff's Office", "local"),
    ("XH-FED", "Sample Border Agency", "federal"),
]
PASSPORT_CHARACTERS = "ABCDEFGHJKLMNPRSTUVWXYZ0123456789"
KEYBOARD = {
    a: b
    for row in ("qwertyuiop", "asdfghjkl", "zxcvbnm")
    for a, b in zip(row, row[1:] + row[-2], strict=True)
}
# Another clerk's transliteration: the same sounds, other letters (German, French and
# Polish conventions beside the English one).
TRANSLIT = [("v", "w"), ("y", "j"), ("kh", "ch"), ("ts", "tz"), ("sh", "sch"), ("iy", "ij")]


@dataclass
class Person:
    pid: str
    locale: str
    country: str
    given: list[str]
    family: str
    sex: str
    dob: date
    address: str
    phone: str
    passport: str
    title: str = ""
    records: list[str] = field(default_factory=list)


def draw_people(n: int, rng: random.Random) -> list[Person]:
    fakers = {loc: Faker(loc) for loc, _, _ in LOCALES}
    for i, f in enumerate(fakers.values()):
        f.seed_instance(rng.randrange(1 << 30) + i)
    weights = [w for _, w, _ in LOCALES]
    people: list[Person] = []
    for i in range(n):
        loc, _, country = rng.choices(LOCALES, weights)[0]
        f = fakers[loc]
        sex = rng.choice("MF")
        given = (f.first_name_male() if sex == "M" else f.first_name_female()).split()
        if len(given) == 1 and rng.random() < 0.25:
            given.append(f.first_name_male() if sex == "M" else f.first_name_female())
        people.append(
            Person(
                pid=f"LP-{i:06d}",
                locale=loc,
                country=country,
                given=given,
                family=f.last_name(),
                sex=sex,
                dob=date(1950, 1, 1) + timedelta(days=rng.randrange(365 * 55)),
                address=f.address().replace("\n", ", "),
                phone=rng.choice(["212", "305", "312", "415", "602"])
                + f"555{rng.randrange(10_000):04d}",
                passport=f"{country}-" + "".join(rng.choices(PASSPORT_CHARACTERS, k=9)),
                title=title_of(f, sex),
            )
        )
    # Namesakes: another person of the same name, born elsewhere and on another day.
    for p in rng.sample(people, n // 20):
        other = rng.choice(people)
        if other is not p and other.locale == p.locale:
            p.given, p.family, p.sex = list(other.given), other.family, other.sex
    # Siblings: one family name, address and phone (a family's line), another given name.
    for p in rng.sample(people, n // 20):
        other = rng.choice(people)
        if other is not p and other.locale == p.locale and other.given != p.given:
            p.family, p.address, p.phone = other.family, other.address, other.phone
            p.dob = other.dob + timedelta(days=rng.randrange(400, 3650))
    return people


def title_of(f: Faker, sex: str) -> str:
    """A title of the person's country and sex, as its lists write one before a name ("Dr.",
    "Herr", "المهندسة"): faker's prefixes, where its locale has them."""
    try:
        return str(f.prefix_male() if sex == "M" else f.prefix_female())
    except AttributeError:
        return ""


def typo(word: str, rng: random.Random) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(4)
    if kind == 0:  # a key's neighbour
        c = word[i].lower()
        return word[:i] + KEYBOARD.get(c, c) + word[i + 1 :]
    if kind == 1:  # dropped
        return word[:i] + word[i + 1 :]
    if kind == 2:  # doubled
        return word[:i] + word[i] + word[i:]
    return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]  # two swapped


def strip_accents(text: str) -> str:
    return "".join(
        ch for ch in unicodedata.normalize("NFKD", text) if not unicodedata.combining(ch)
    )


def transliterate(word: str, rng: random.Random) -> str:
    out = anyascii(word)
    if rng.random() < 0.5:
        a, b = rng.choice(TRANSLIT)
        out = out.replace(a, b).replace(a.capitalize(), b.capitalize())
    return out


def render(p: Person, rng: random.Random) -> dict[str, str]:
    given, family = list(p.given), p.family
    # A clerk who writes a name in Latin letters writes its title so too, not transliterated.
    title = p.title
    if p.locale in OTHER_SCRIPT and rng.random() < 0.6:
        title = ""
        given = [transliterate(g, rng) for g in given]
        family = transliterate(family, rng)
    if len(given) > 1:
        r = rng.random()
        if r < 0.3:
            given = given[:1]
        elif r < 0.5:
            given = [given[0], given[1][0] + "."]
    given = [typo(g, rng) if rng.random() < 0.06 else g for g in given]
    family = typo(family, rng) if rng.random() < 0.08 else family
    if rng.random() < 0.3:
        given, family = [strip_accents(g) for g in given], strip_accents(family)
    if rng.random() < 0.25:
        given, family = [g.upper() for g in given], family.upper()
    first, middle = given[0], " ".join(given[1:])
    if rng.random() < 0.05:  # the clerk put the family name first
        first, family = family, first
    full = (
        f"{family}, {' '.join([first, middle]).strip()}"
        if rng.random() < 0.3
        else " ".join(x for x in (first, middle, family) if x)
    )
    if title and "," not in full and rng.random() < 0.1:
        full = f"{title} {full}"
    dob = ""
    if rng.random() < 0.65:
        d = p.dob
        r = rng.random()
        if r < 0.05 and d.day <= 12:
            d = date(d.year, d.day, d.month)
        elif r < 0.07:
            d = date(d.year + rng.choice((-1, 1)), d.month, min(d.day, 28))
        dob = d.isoformat()
        if 0.07 <= r < 0.10:  # a digit mistyped
            j = rng.choice([2, 3, 8, 9])
            dob = dob[:j] + str(rng.randrange(10)) + dob[j + 1 :]
            try:
                date.fromisoformat(dob)
            except ValueError:
                dob = d.isoformat()
    address = ""
    if rng.random() < 0.5:
        address = p.address.upper() if rng.random() < 0.3 else p.address
        if rng.random() < 0.3:  # the postal code left out
            address = " ".join(w for w in address.split() if not any(ch.isdigit() for ch in w))
    passport = ""
    if rng.random() < 0.25:
        passport = p.passport if rng.random() > 0.05 else typo(p.passport, rng)
    return {
        "full_name": full,
        "given_name": " ".join(x for x in (first, middle) if x),
        "family_name": family,
        "dob": dob,
        "sex": p.sex if rng.random() < 0.7 else "",
        "addresses": address.replace("|", " "),
        "identifiers": f"passport:{passport}" if passport else "",
    }


def write_lists(out: Path, persons: int, seed: int) -> dict[str, int]:
    rng = random.Random(seed)
    people = draw_people(persons, rng)
    rows: list[tuple[Person, dict[str, str]]] = []
    for p in people:
        k = 1
        while k < 5 and rng.random() < 0.45:
            k += 1
        rows += [(p, render(p, rng)) for _ in range(k)]
    rng.shuffle(rows)
    investigations = case_files(rows)
    out.mkdir(parents=True, exist_ok=True)
    (out / "truth").mkdir(exist_ok=True)

    def write(name: str, header: list[str], data: list[list[str]]) -> None:
        write_csv(out / name, header, data)

    write("agencies.csv", ["agency_id", "name", "kind"], [list(a) for a in AGENCIES])
    inv_rows, subj_rows, sel_rows, truth_rows = [], [], [], []
    opened = date(2023, 1, 1)
    for i, members in enumerate(investigations):
        agency = AGENCIES[i % len(AGENCIES)][0]
        inv = f"{agency}-2023-{i:05d}"
        inv_rows.append(
            [inv, agency, "New York", "NY", (opened + timedelta(days=i % 300)).isoformat()]
        )
        for j, (p, r) in enumerate(members, start=1):
            sid = f"{inv}-S{j:02d}"
            subj_rows.append(
                [
                    sid,
                    inv,
                    r["full_name"],
                    r["given_name"],
                    r["family_name"],
                    r["dob"],
                    r["sex"],
                    r["addresses"],
                    r["identifiers"],
                ]
            )
            truth_rows.append([sid, p.pid, "subjects"])
            if rng.random() < 0.35:
                phone = p.phone
                shown = rng.choice(
                    [
                        phone,
                        f"({phone[:3]}) {phone[3:6]}-{phone[6:]}",
                        f"+1{phone}",
                        f"{phone[:3]}.{phone[3:6]}.{phone[6:]}",
                    ]
                )
                sel_rows.append([f"{sid}-P1", inv, sid, "phone", shown])
    write(
        "investigations.csv",
        ["investigation_id", "agency_id", "division", "state", "opened"],
        inv_rows,
    )
    write(
        "subjects.csv",
        [
            "subject_id",
            "investigation_id",
            "full_name",
            "given_name",
            "family_name",
            "dob",
            "sex",
            "addresses",
            "identifiers",
        ],
        subj_rows,
    )
    write(
        "selectors.csv",
        ["selector_id", "investigation_id", "subject_id", "kind", "value"],
        sel_rows,
    )
    write("truth/records.csv", ["record_id", "entity_id", "record_type"], truth_rows)
    other = {p.pid for p in people if p.locale in OTHER_SCRIPT}
    write("truth/other_script.csv", ["entity_id"], [[pid] for pid in sorted(other)])
    return {
        "persons": persons,
        "records": len(subj_rows),
        "investigations": len(inv_rows),
        "phones": len(sel_rows),
    }


K = TypeVar("K")
R = TypeVar("R")


def case_files(rows: list[tuple[K, R]], size: int = 5) -> list[list[tuple[K, R]]]:
    """``rows`` of (person, record) put into case files of ``size`` records in their order,
    one person at most once in a case file (the resolver reads two subjects of one case file
    as two people, and the truth must not say otherwise)."""
    files: list[list[tuple[K, R]]] = []
    open_files: list[list[tuple[K, R]]] = []
    for row in rows:
        home = next((f for f in open_files if all(q != row[0] for q, _ in f)), None)
        if home is None:
            home = []
            open_files.append(home)
            files.append(home)
        home.append(row)
        if len(home) >= size:
            open_files.remove(home)
    return files


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(header)
        w.writerows(rows)


def resolve_and_score(
    folder: Path,
    tmp: Path,
    *,
    plain: bool,
    prior: str | None = None,
    parts: dict[str, Path] | None = None,
) -> dict[str, object]:
    """Ingest ``folder`` (an interchange folder with ``truth/records.csv``) into a workspace
    in ``tmp``, resolve it, and score persons against the truth, and plain Splink on the
    same records when ``plain``; ``parts`` names files of ``entity_id``s whose records are
    also scored on their own, as ``persons_NAME``. Exits when a row is rejected: the scores
    would be of other records than the truth's."""
    with open_workspace(tmp / "ws.duckdb") as ws:
        batch = ingest_paths(ws, [folder], rejects=tmp / "rejects.csv")
        if batch.rejected:
            sys.exit(f"{batch.rejected} rows were rejected: see {tmp / 'rejects.csv'}")
        started = time.time()
        resolve(ws, prior=prior)
        seconds = time.time() - started
        con = ws.store.staging()
        con.execute(
            "CREATE OR REPLACE TEMP TABLE truth AS SELECT record_id, entity_id AS g "
            f"FROM read_csv('{folder / 'truth' / 'records.csv'}', all_varchar = true)"
        )
        con.register(
            "members",
            ws.store.query(
                "SELECT record_id, entity_id AS p FROM entity_members "
                "WHERE record_type = 'subjects'"
            ),
        )
        out: dict[str, object] = {
            "loaded": batch.loaded,
            "rejected": batch.rejected,
            "resolve_seconds": round(seconds, 1),
            "persons": scores(con, "members", "truth"),
            "prior": json.loads(
                ws.store.rows(
                    "SELECT counts_json FROM resolution_runs ORDER BY finished_at DESC LIMIT 1"
                )[0][0]
            ).get("prior"),
        }
        for name, path in (parts or {}).items():
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE truth_{name} AS SELECT t.* FROM truth t JOIN "
                f"read_csv('{path}', all_varchar = true) o ON o.entity_id = t.g"
            )
            out[f"persons_{name}"] = scores(con, "members", f"truth_{name}")
        if plain:
            plain_seconds = plain_splink_view(con)
            out["plain_splink_persons"] = scores(con, "pred_plain", "truth") | {
                "seconds": round(plain_seconds, 1)
            }
            for name in parts or {}:
                out[f"plain_splink_{name}"] = scores(con, "pred_plain", f"truth_{name}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="keep the generated folder here")
    parser.add_argument(
        "--prior",
        choices=["stated", "estimated"],
        default=None,
        help="the trained model's prior (lastmile resolve --prior; default its default)",
    )
    parser.add_argument("--no-plain", action="store_true", help="skip the plain Splink peer")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = args.out or Path(tmp) / "lists"
        made = write_lists(folder, args.persons, args.seed)
        scored = resolve_and_score(
            folder,
            Path(tmp),
            plain=not args.no_plain,
            prior=args.prior,
            parts={"other_script": folder / "truth" / "other_script.csv"},
        )
        out = {"benchmark": "resolve_lists", "generated": made, **scored}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
