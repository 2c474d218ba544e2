"""Arrests and seizures: each investigation's calibrated share split into records.

Quantities arrive in whole base units (pills, grams, firearms, dollars) and are split with
the largest-remainder rule, so the records of an investigation add up exactly to its share;
masses are then written in the unit a lab report would use (the only rounding is that of a
pound or ounce figure to two decimals).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np

from lastmile.model import Drug, FirearmType, Form, Unit
from lastmile.synth.calibration import LB_G, OZ_G, allocate
from lastmile.synth.cases import Investigation
from lastmile.synth.records import Records
from lastmile.synth.world import World

Row = dict[str, str]

# quantity key -> (drug, forms with weights)
MASS_DRUGS: dict[str, tuple[Drug, tuple[tuple[Form, float], ...]]] = {
    "powder_g": (Drug.FENTANYL, ((Form.POWDER, 1.0),)),
    "meth_g": (
        Drug.METHAMPHETAMINE,
        ((Form.CRYSTAL, 0.8), (Form.POWDER, 0.15), (Form.LIQUID, 0.05)),
    ),
    "cocaine_g": (Drug.COCAINE, ((Form.POWDER, 1.0),)),
    "heroin_g": (Drug.HEROIN, ((Form.POWDER, 1.0),)),
    "cannabis_g": (Drug.CANNABIS, ((Form.PLANT, 1.0),)),
    "other_g": (Drug.OTHER, ((Form.POWDER, 0.7), (Form.LIQUID, 0.3))),
}
FIREARM_TYPES: tuple[tuple[FirearmType, float], ...] = (
    (FirearmType.HANDGUN, 0.62),
    (FirearmType.RIFLE, 0.2),
    (FirearmType.SHOTGUN, 0.06),
    (FirearmType.PRIVATELY_MADE, 0.08),
    (FirearmType.MACHINE_GUN, 0.02),
    (FirearmType.OTHER, 0.02),
)
CHARGES = (
    "21 USC 841",
    "21 USC 846",
    "21 USC 843(b)",
    "18 USC 924(c)",
    "18 USC 1956",
    "18 USC 922(g)",
)


@dataclass
class Outcomes:
    arrests: list[Row] = field(default_factory=list)
    drugs: list[Row] = field(default_factory=list)
    firearms: list[Row] = field(default_factory=list)
    currency: list[Row] = field(default_factory=list)
    arrested: list[int] = field(default_factory=list)  # the person behind each arrest
    co_arrests: set[tuple[int, int]] = field(default_factory=set)  # arrested together
    joint: list[tuple[str, str]] = field(default_factory=list)  # (record id, same as)


TAKEDOWN = 0.5  # investigations that arrest several of their targets on one day
JOINT = 0.5  # a person arrested in two investigations: one event reported twice


def _pieces(rng: np.random.Generator, total: int, typical: float, most: int = 8) -> np.ndarray:
    """Split ``total`` into a few positive integer pieces (about one per ``typical``)."""
    if total <= 0:
        return np.zeros(0, dtype=np.int64)
    k = int(min(total, most, 1 + rng.poisson(min(total / typical, most))))
    return allocate(total - k, rng.dirichlet(np.full(k, 0.9))) + 1


def _mass(rng: np.random.Generator, grams: int) -> tuple[str, str]:
    """(quantity, unit) for a mass in grams, in the unit a report would use."""
    r = rng.random()
    if grams < 1000:
        if r < 0.8:
            return str(grams), Unit.G.value
        return f"{grams / OZ_G:.2f}", Unit.OZ.value
    if r < 0.45:
        return f"{grams / 1000:.3f}".rstrip("0").rstrip("."), Unit.KG.value
    if r < 0.9:
        return f"{grams / LB_G:.2f}", Unit.LB.value
    return str(grams), Unit.G.value


def _pick(rng: np.random.Generator, table: tuple[tuple[Form, float], ...]) -> Form:
    p = np.array([w for _, w in table])
    return table[int(rng.choice(len(table), p=p / p.sum()))][0]


def _day(rng: np.random.Generator, inv: Investigation) -> date:
    span = max(0, (inv.last_day - inv.opened).days)
    return inv.opened + timedelta(days=int(rng.integers(0, span + 1)))


def build(rng: np.random.Generator, w: World, invs: list[Investigation], rec: Records) -> Outcomes:
    out = Outcomes()
    for inv in invs:
        iid = inv.inv_id
        place = {"city": inv.city, "state": inv.state}
        subjects = rec.subject_ids[inv.idx]
        people = rec.subject_people[inv.idx]
        k = inv.alloc["arrests"]
        if k:
            replace = k > len(subjects)
            chosen = rng.choice(len(subjects), size=k, replace=replace)
            takedown = _day(rng, inv) if k > 1 and rng.random() < TAKEDOWN else None
            together: list[int] = []
            for n, s in enumerate(chosen, start=1):
                person = people[int(s)]
                day = _day(rng, inv)
                if takedown is not None and rng.random() < 0.7:
                    day = takedown
                    together.append(person)
                p = w.persons[person]
                where = place
                if not p.in_mexico and p.state != inv.state and rng.random() < 0.5:
                    where = {"city": p.city, "state": p.state}
                charges = ["21 USC 841"]
                charges += [c for c in CHARGES[1:] if rng.random() < 0.25]
                out.arrests.append(
                    {
                        "arrest_id": f"{iid}-A{n:02d}",
                        "investigation_id": iid,
                        "subject_id": subjects[int(s)],
                        "date": day.isoformat(),
                        **where,
                        "charges": "|".join(charges),
                    }
                )
                out.arrested.append(person)
            for a in together:
                for b in together:
                    if a < b:
                        out.co_arrests.add((a, b))
        dn = 0
        for piece in _pieces(rng, inv.alloc["pills"], 25_000):
            dn += 1
            out.drugs.append(
                {
                    "seizure_id": f"{iid}-D{dn:02d}",
                    "investigation_id": iid,
                    "date": _day(rng, inv).isoformat(),
                    **place,
                    "drug": Drug.FENTANYL.value,
                    "form": Form.PILL.value,
                    "quantity": str(int(piece)),
                    "unit": Unit.COUNT.value,
                    "purity": "",
                }
            )
        for key, (drug, forms) in MASS_DRUGS.items():
            for piece in _pieces(rng, inv.alloc[key], 4_000):
                dn += 1
                quantity, unit = _mass(rng, int(piece))
                form = _pick(rng, forms)
                purity = ""
                if drug in (Drug.FENTANYL, Drug.METHAMPHETAMINE) and rng.random() < 0.35:
                    lo, hi = (0.02, 0.3) if drug == Drug.FENTANYL else (0.85, 0.99)
                    purity = f"{rng.uniform(lo, hi):.2f}"
                out.drugs.append(
                    {
                        "seizure_id": f"{iid}-D{dn:02d}",
                        "investigation_id": iid,
                        "date": _day(rng, inv).isoformat(),
                        **place,
                        "drug": drug.value,
                        "form": form.value,
                        "quantity": quantity,
                        "unit": unit,
                        "purity": purity,
                    }
                )
        gun_p = np.array([wt for _, wt in FIREARM_TYPES])
        for n, piece in enumerate(_pieces(rng, inv.alloc["firearms"], 4, most=12), start=1):
            ftype = FIREARM_TYPES[int(rng.choice(len(FIREARM_TYPES), p=gun_p / gun_p.sum()))][0]
            out.firearms.append(
                {
                    "seizure_id": f"{iid}-F{n:02d}",
                    "investigation_id": iid,
                    "date": _day(rng, inv).isoformat(),
                    **place,
                    "count": str(int(piece)),
                    "type": ftype.value if rng.random() < 0.9 else "",
                }
            )
        for n, piece in enumerate(_pieces(rng, inv.alloc["currency"], 40_000), start=1):
            out.currency.append(
                {
                    "seizure_id": f"{iid}-C{n:02d}",
                    "investigation_id": iid,
                    "date": _day(rng, inv).isoformat(),
                    **place,
                    "amount": str(int(piece)),
                    "currency": "USD" if rng.random() < 0.7 else "",
                    "amount_usd": "",
                }
            )
    pairs = _joint_arrests(rng, invs, out)
    _joint_seizures(rng, invs, out, pairs)
    return out


def _joint_arrests(
    rng: np.random.Generator, invs: list[Investigation], out: Outcomes
) -> list[tuple[str, str]]:
    """Joint operations: a person arrested in two investigations is often one arrest that
    both agencies reported. The later record takes the first one's date and place (when the
    date falls inside its own investigation), and ``joint`` says they are one event."""
    by_id = {v.inv_id: v for v in invs}
    pairs: list[tuple[str, str]] = []
    first: dict[int, int] = {}
    for k, person in enumerate(out.arrested):
        if person not in first:
            first[person] = k
            continue
        a, b = out.arrests[first[person]], out.arrests[k]
        if a["investigation_id"] == b["investigation_id"] or rng.random() >= JOINT:
            continue
        inv = by_id[b["investigation_id"]]
        day = date.fromisoformat(a["date"])
        if inv.opened <= day <= inv.last_day:
            b["date"], b["city"], b["state"] = a["date"], a["city"], a["state"]
            out.joint.append((b["arrest_id"], a["arrest_id"]))
            pairs.append((a["investigation_id"], b["investigation_id"]))
    return pairs


def _usable(r: Row, inv: str, key: str, done: set[str]) -> bool:
    countable = key == "amount" or r.get("form") == "pill"
    return r["investigation_id"] == inv and countable and r["seizure_id"] not in done


def _joint_seizures(
    rng: np.random.Generator,
    invs: list[Investigation],
    out: Outcomes,
    pairs: list[tuple[str, str]],
) -> None:
    """A joint operation's seizure reported by both agencies: for half the pairs of
    investigations with a joint arrest in one division, one pill or currency seizure of each
    becomes one event (same date and place). The two quantities are evened out (they then
    differ by at most one pill or dollar, as two reports of one count do), so every total
    stays exact."""
    by_id = {v.inv_id: v for v in invs}
    done: set[str] = set()
    for a_id, b_id in dict.fromkeys(pairs):
        a_inv, b_inv = by_id[a_id], by_id[b_id]
        if a_inv.division != b_inv.division or rng.random() >= 0.5:
            continue
        for rows, key in ((out.currency, "amount"), (out.drugs, "quantity")):
            first = next((r for r in rows if _usable(r, a_id, key, done)), None)
            second = next((r for r in rows if _usable(r, b_id, key, done)), None)
            if first is None or second is None:
                continue
            day = date.fromisoformat(first["date"])
            if not b_inv.opened <= day <= b_inv.last_day:
                continue
            total = int(first[key]) + int(second[key])
            first[key], second[key] = str(total - total // 2), str(total // 2)
            second["date"], second["city"], second["state"] = (
                first["date"],
                first["city"],
                first["state"],
            )
            out.joint.append((second["seizure_id"], first["seizure_id"]))
            done.update((first["seizure_id"], second["seizure_id"]))
            break
