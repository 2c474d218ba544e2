"""Social-media sales screening: extractors, scores, the command, attaching posts."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from lastmile.cli import app
from lastmile.screen import Screener, screen_texts
from lastmile.screen.evaluate import figures, read_labelled
from lastmile.screen.lexicon import load_lexicon
from lastmile.screen.prefilter import candidates
from lastmile.screen.text import clean, contacts, handles, phones, respell, transpositions
from lastmile.synth.posts import generate

from .conftest import FIXTURES, SMALL_OPERATION

HAND = FIXTURES / "screen_handwritten.csv"
runner = CliRunner()


def _one(text: str | None) -> dict[str, object]:
    row: dict[str, object] = screen_texts([text]).to_pylist()[0]
    return row


# -- the hand-written set (never used to set anything) ----------------------------------------


def test_hand_written_posts_are_screened_as_a_person_would() -> None:
    hand = pacsv.read_csv(HAND)
    assert hand.num_rows >= 100
    got = figures(Screener().screen(hand["post_id"], hand["text"]), hand)
    assert got["sale_precision"] >= 0.95
    assert got["sale_recall"] >= 0.85


def test_synthetic_posts_meet_the_issue_figures() -> None:
    posts, truth = generate(2022, 4000)
    got = figures(Screener().screen(posts["post_id"], posts["text"]), truth)
    assert got["sale_precision"] >= 0.95
    assert got["sale_recall"] >= 0.90
    assert got["selector_recall"] >= 0.95


# -- extractors -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "written",
    [
        "303-555-0187",
        "(303) 555-0187",
        "303.555.0187",
        "3 0 3 5 5 5 0 1 8 7",
        "three zero three five five five zero one eight seven",
        "303 five five five 0187",
        "3️⃣0️⃣3️⃣5️⃣5️⃣5️⃣0️⃣1️⃣8️⃣7️⃣",
        "3O3 555 O187",
        "+1 303 555 0187",
        "１２３".replace("１２３", "３０３") + "5550187",
    ],
)
def test_phone_numbers_written_any_way_are_found(written: str) -> None:
    assert [c.key for c in phones(clean(f"blues tap in {written} asap"))] == ["phone:+13035550187"]


def test_two_numbers_side_by_side_are_two_numbers() -> None:
    keys = {c.key for c in phones(clean("(313) 555-0152 402-5️⃣5️⃣5️⃣-0138"))}
    assert keys == {"phone:+13135550152", "phone:+14025550138"}


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("sc: frosty_21", "account:snapchat:frosty_21"),
        ("sc: meowplug", "account:snapchat:meowplug"),
        ("snap me at isaiah_22", "account:snapchat:isaiah_22"),
        ("snap -> Frosty_21", "account:snapchat:frosty_21"),
        ("👻 frosty_21", "account:snapchat:frosty_21"),
        ("tele @blue_goods", "account:telegram:blue_goods"),
        ("telegram ➡️ @blue_goods", "account:telegram:blue_goods"),
        ("wickr: icemanco", "account:wickr:icemanco"),
        ("𝓼𝓷𝓪𝓹 frosty_21", "account:snapchat:frosty_21"),
    ],
)
def test_handles_for_other_platforms_are_found(written: str, key: str) -> None:
    assert [c.key for c in handles(clean(written))] == [key]


def test_add_me_on_snap_without_a_name_is_no_handle() -> None:
    assert handles(clean("add me on snap only, dm me")) == []


@pytest.mark.parametrize(
    ("written", "keys"),
    [
        ("new home t.me/frostyvault_bk", ["account:telegram:frostyvault_bk"]),
        ("https://t.me/frostyvault_bk.", ["account:telegram:frostyvault_bk"]),
        ("wa.me/13035550187", ["phone:+13035550187"]),
        ("snapchat.com/add/iceman22 or sc: iceman22", ["account:snapchat:iceman22"]),
        ("👻 snap: plugged.in.atl", ["account:snapchat:plugged.in.atl"]),
        ("hit the sig app: frostfolk.88", ["account:signal:frostfolk.88"]),
        ("wire: clearlycrystal", ["account:wire:clearlycrystal"]),
        ("session: 05" + "ab" * 32, ["account:session:05" + "ab" * 32]),
        ("my session is at 5, tele @blue_goods", ["account:telegram:blue_goods"]),
        ("sold percs through snapchat that killed a teen", []),
        ("whatsapp: 3 0 3 • 5 5 5 • 0 1 8 7", ["phone:+13035550187"]),
        ("found @plugmaster_usa on telegram, legit", ["account:telegram:plugmaster_usa"]),
        ("snap: p h x . p l u g g", ["account:snapchat:phx.plugg"]),
        ("txt 3O3.555.Ol87", ["phone:+13035550187"]),
        ("txt 3l3.555.0187", ["phone:+13135550187"]),
        ("texto al tres cero tres, cinco cinco cinco, cero uno ocho siete", ["phone:+13035550187"]),
    ],
)
def test_contacts_in_links_ids_and_other_writings_are_found(written: str, keys: list[str]) -> None:
    assert [c.key for c in contacts(clean(written))] == keys


def test_a_contact_given_twice_is_one_contact() -> None:
    found = contacts(clean("t.me/blue_goods or tele @blue_goods, call 303-555-0187 / 3035550187"))
    assert sorted(c.key for c in found) == ["account:telegram:blue_goods", "phone:+13035550187"]


def test_emoji_variants_match_the_same_entry() -> None:
    plain, styled = _one("❄ soft $80 dm"), _one("❄️\u200d soft $80 dm")
    assert plain["indicators"] == styled["indicators"]
    assert "emoji:❄" in plain["indicators"]  # type: ignore[operator]


def test_html_entities_are_decoded() -> None:
    assert "slang:percs" in _one("percs &#128138; $20 each, dm")["indicators"]  # type: ignore[operator]


def test_leet_spellings_are_read() -> None:
    assert "slang:percs" in _one("p3rcs 💊 $20 dm")["indicators"]  # type: ignore[operator]


# -- labels ------------------------------------------------------------------------------------


def test_a_dealer_offer_is_a_sale_and_its_innocent_twin_is_not() -> None:
    assert _one("🔌 blues 💊 M30s $20 each tap in sc: frosty_21")["label"] == "sale"
    assert _one("SNOW DAY ❄️⛄ no school, building a snowman")["label"] == "none"
    assert _one("baked chocolate chip cookies 🍪🍪 recipe from grandma")["label"] == "none"
    assert _one("rocket launch tonight 🚀🚀 spacex liftoff at 6")["label"] == "none"


def test_emojis_alone_never_make_a_sale() -> None:
    assert _one("💊🍌🅿️💎❄️🐉🚀💣")["label"] != "sale"


@pytest.mark.parametrize(
    "text",
    [
        "Goldendoodle puppies ready march 20! vet checked, $1200, call/text 405 555 0146, dm me",
        "2016 civic 🚗 89k miles $11,500 obo 🔥🔥 call or text 214-555-0170",
        "the 🔌 for cheap flights ✈️ deals in bio",
    ],
)
def test_no_drug_no_sale_whatever_the_offer(text: str) -> None:
    """An offer with no drug named (a "fire" emoji and a plug name none) is no sale, on
    either method: the gate is applied after the text model too."""
    for method in ("lexicon", "combined"):
        row = Screener(method=method).screen(pa.array(["1"]), pa.array([text])).to_pylist()[0]
        assert row["label"] == "none", (method, row)


def test_one_drug_word_opens_the_gate() -> None:
    assert _one("puppies 💊 ready, $1200, call/text 405 555 0146, dm me")["score"] > 0.2  # type: ignore[operator]


@pytest.mark.parametrize(
    ("innocent", "offer"),
    [
        (
            "A man was sentenced to 12 years for selling fentanyl laced percs 💊 on snap, "
            "prosecutors said. Police say it killed a teen.",
            "fentanyl laced percs 💊 $20 each, hit my snap",
        ),
        (
            "FREE narcan + fentanyl test strips 💙 text 414-555-0150, we drop off. save a life",
            "fetty 💙 text 414-555-0150, we drop off",
        ),
        ("where can i get percs around here? my guy got locked up, dm me", "percs, dm me"),
        ("the sneaker plug 🔌 jordans sz 9, $260, receipts, snap: soleplugkicks", ""),
    ],
)
def test_context_that_outweighs_the_drug_words(innocent: str, offer: str) -> None:
    """News, harm reduction, a buyer's request and a plug for goods each count as much as
    their words say (several words of one kind count up to three times)."""
    assert _one(innocent)["label"] != "sale"
    if offer:
        assert _one(offer)["label"] == "sale"


def test_words_of_one_kind_count_up_to_three_times() -> None:
    """ "Sentenced", "prosecutors said" and "charged" are more news than one of them."""
    once = _one("sentenced today for selling percs $20 each, hit my snap")
    thrice = _one("sentenced today for selling percs $20 each, hit my snap, prosecutors said")
    assert once["label"] == "sale" and thrice["label"] == "none"


@pytest.mark.parametrize(
    ("written", "indicator"),
    [
        ("bluesss", "slang:blues"),
        ("ppercs", "slang:percs"),
        ("mloly", "slang:molly"),
        ("orxys", "slang:oxy"),
        ("golden 😈 teachers sc: shroomguy", "slang:shrooms"),
        ("booomers", "slang:shrooms"),
    ],
)
def test_misspelled_drug_words_are_read(written: str, indicator: str) -> None:
    assert indicator in _one(f"{written} $20 each, dm me")["indicators"]  # type: ignore[operator]


def test_a_typo_reading_never_makes_an_ordinary_word_a_drug() -> None:
    row = _one("new bras 💯 for sale, $20 each, dm me")
    assert row["drugs"] == [] and row["label"] == "none"


@settings(max_examples=100, deadline=None)
@given(
    st.sampled_from(["percs", "molly", "blues", "roxys", "xanax", "fetty"]),
    st.integers(0, 3),
    st.booleans(),
)
def test_the_prefilter_keeps_what_the_typo_reading_reads(word: str, i: int, swap: bool) -> None:
    typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :] if swap else word + word[-1] * 2
    text = f"{typo} $20 each dm me"
    lexicon = load_lexicon()
    assert candidates(pa.array([text]), lexicon).to_pylist() == [True]
    assert _one(text)["drugs"]


# -- bad input ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        None,
        "x" * 100_000,
        "blues 💊 " * 12_000 + "sc: frosty_21",
        "Привет 你好 مرحبا blues 💊 $20 dm",
        "\ud83d blues \ud83d\udc8a $20 dm",
        "&amp;&lt;&#x1F48A;&#99999999;",
        "\u200d\ufe0f\u20e3",
    ],
)
def test_bad_input_gets_a_result(text: str | None) -> None:
    row = _one(text)
    assert row["label"] in ("sale", "possible", "none")
    assert 0.0 <= row["score"] <= 1.0  # type: ignore[operator]


def test_a_very_long_post_says_it_was_truncated() -> None:
    assert "truncated" in _one("blues " * 5000)["indicators"]  # type: ignore[operator]


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_extractors_never_fail_and_clean_removes_variation_selectors(text: str) -> None:
    cleaned = clean(text)
    assert "\ufe0f" not in cleaned and "\u200d" not in cleaned
    for c in contacts(cleaned):
        assert c.key.startswith(("phone:+", "account:"))
    again = respell(cleaned, SWAPS)
    assert not re.search(r"([a-z])\1\1", again.split("\n")[0])


SWAPS = transpositions({"percs", "molly", "blues"})


def test_the_typo_reading_holds_both_readings_of_a_tripled_letter() -> None:
    assert respell("booomers and bluesss", SWAPS) == "bomers and blues\nboomers and bluess"
    assert respell("mloly 😈 ppercs", SWAPS) == "molly percs"


@settings(max_examples=150, deadline=None)
@given(
    st.sampled_from(["303", "720", "602", "313"]),
    st.integers(100, 199),
    st.lists(st.sampled_from(["", " ", "-", ".", "  ", " - "]), min_size=9, max_size=9),
    st.text(alphabet="abc 💊🔌!", max_size=20),
)
def test_any_separators_between_digits_give_the_number(
    area: str, line: int, seps: list[str], noise: str
) -> None:
    digits = f"{area}555{line:04d}"
    written = digits[0] + "".join(s + d for s, d in zip(seps, digits[1:], strict=True))
    found = {c.key for c in phones(clean(f"{noise} call {written} now"))}
    assert f"phone:+1{digits}" in found


# -- synthetic posts ---------------------------------------------------------------------------


def test_synthetic_posts_are_reproducible_and_labelled() -> None:
    a, ta = generate(5, 300)
    b, tb = generate(5, 300)
    assert a.equals(b) and ta.equals(tb)
    assert set(ta["label"].to_pylist()) == {"sale", "none"}
    assert max(len(t) for t in a["text"].to_pylist()) <= 280


# -- the command -------------------------------------------------------------------------------


def test_screen_command_reads_csv_without_ids_and_json_lines(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text('text\n"🔌 percs $20 each, dm"\nhello\n', encoding="utf-8")
    (tmp_path / "b.jsonl").write_text(
        '{"post_id": "j1", "text": "blues \\ud83d tap in"}\nnot json\n', encoding="utf-8"
    )
    res = runner.invoke(
        app,
        [
            "screen",
            str(tmp_path / "a.csv"),
            str(tmp_path / "b.jsonl"),
            "--format",
            "json",
            "--method",
            "lexicon",
        ],
    )
    assert res.exit_code == 0, res.output
    rows = [json.loads(line) for line in res.stdout.splitlines() if line.startswith("{")]
    assert [r["post_id"] for r in rows] == ["1", "2", "j1"]
    assert rows[0]["label"] == "sale"
    assert "line 2: not JSON" in res.output


def test_screen_needs_a_text_column(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("body\nhello\n", encoding="utf-8")
    res = runner.invoke(app, ["screen", str(tmp_path / "a.csv"), "--method", "lexicon"])
    assert res.exit_code == 1
    assert "no 'text' column" in res.output


def test_attached_posts_become_records_of_the_investigation(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    assert runner.invoke(app, ["ingest", str(SMALL_OPERATION), "-w", str(ws)]).exit_code == 0
    inv = (SMALL_OPERATION / "investigations.csv").read_text().splitlines()[1].split(",")[0]
    (tmp_path / "p.csv").write_text(
        "post_id,platform,author,text\n"
        'x1,Instagram,blue_plug,"🔌 blues $20 tap in sc: frosty_21 or 303-555-0187"\n',
        encoding="utf-8",
    )
    res = runner.invoke(
        app, ["screen", str(tmp_path / "p.csv"), "--investigation", inv, "-w", str(ws)]
    )
    assert res.exit_code == 0, res.output
    import duckdb

    con = duckdb.connect(str(ws), read_only=True)
    post = con.sql("SELECT label, selectors, author_selector_id FROM posts").fetchall()
    assert post[0][0] == "sale" and "phone:+13035550187" in post[0][1]
    sel = con.sql(
        "SELECT kind, platform, value_normalized FROM selectors WHERE selector_id = ?",
        params=[post[0][2]],
    ).fetchall()
    assert sel == [("account", "Instagram", "blue_plug")]
    found = con.sql(
        "SELECT count(*) FROM selectors WHERE investigation_id = ? AND selector_id LIKE '%-SCR-%' "
        "AND value_normalized IN ('+13035550187', 'frosty_21')",
        params=[inv],
    ).fetchall()
    assert found[0][0] == 2


# -- the combined method ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def combined() -> Screener:
    return Screener(method="combined")


def test_the_combined_method_holds_on_hand_written_posts(combined: Screener) -> None:
    hand = pacsv.read_csv(HAND)
    got = figures(combined.screen(hand["post_id"], hand["text"]), hand)
    assert got["sale_precision"] >= 0.95
    assert got["sale_recall"] >= 0.90


@pytest.mark.parametrize("name", ["a", "b", "c"])
def test_posts_written_by_other_hands_hold(combined: Screener, name: str) -> None:
    """Three writers who never saw the lexicon (docs/methodology.md, "Screening"); floors a
    little under the figures of 2026-12-03, so that a change that loses them is seen."""
    posts, _ = read_labelled(FIXTURES / f"screen_written_{name}.csv")
    got = figures(combined.screen(posts["post_id"], posts["text"]), posts)
    assert got["sale_precision"] >= 0.93
    assert got["sale_recall"] >= 0.80
    assert got["selector_recall"] >= 0.85


def test_the_model_only_rescores_posts_with_lexicon_evidence(combined: Screener) -> None:
    texts = ["great day at the beach", "snow day ❄️ no school", "🔌 blues $20 tap in"]
    lexicon = Screener().screen(pa.array(["1", "2", "3"]), pa.array(texts)).to_pylist()
    both = combined.screen(pa.array(["1", "2", "3"]), pa.array(texts)).to_pylist()
    assert both[0]["score"] == lexicon[0]["score"] == 0.0
    assert both[1]["score"] == lexicon[1]["score"]
    assert both[2]["label"] == "sale"


def test_an_unknown_method_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown screening method"):
        Screener(method="magic")


def test_the_synthetic_operation_writes_posts_with_fictional_selectors(tmp_path: Path) -> None:
    from lastmile.synth import generate as synth

    synth("tiny", seed=3, out_dir=tmp_path)
    posts = pacsv.read_csv(tmp_path / "social" / "posts.csv")
    truth = pacsv.read_csv(tmp_path / "truth" / "posts.csv")
    assert posts.column_names == ["post_id", "platform", "author", "posted_at", "text"]
    assert truth.column_names == ["post_id", "label", "selectors"]
    assert posts.num_rows == truth.num_rows > 0
    keys = [k for v in truth["selectors"].to_pylist() if v for k in v.split("|")]
    phones_ = [k for k in keys if k.startswith("phone:")]
    assert phones_ and all(k[-7:-4] == "555" for k in phones_)
    # Some dealers' posts carry selectors the operation's records hold.
    held = {
        re.sub(r"\D", "", v or "")[-10:]
        for v in pacsv.read_csv(tmp_path / "selectors.csv")["value"].to_pylist()
    }
    assert any(k.removeprefix("phone:+1") in held for k in phones_)


def test_other_layouts_are_read_through_a_mapping(tmp_path: Path) -> None:
    (tmp_path / "m.yaml").write_text(
        "name: scraped\nformat: csv\nparams: [investigation]\nrecords:\n"
        "  - record_type: posts\n    columns:\n      post_id: id\n"
        "      investigation_id: {param: investigation}\n      text: body\n"
        "      platform: {value: Instagram}\n",
        encoding="utf-8",
    )
    (tmp_path / "p.csv").write_text(
        'id,body\nz1,"percs 🍌 $20 each tap in"\nz2,hello\n', encoding="utf-8"
    )
    res = runner.invoke(
        app,
        [
            "screen",
            str(tmp_path / "p.csv"),
            "--mapping",
            str(tmp_path / "m.yaml"),
            "--method",
            "lexicon",
            "--format",
            "csv",
        ],
    )
    assert res.exit_code == 0, res.output
    lines = res.stdout.splitlines()
    assert lines[1].startswith('"z1","sale"') and lines[2].startswith('"z2","none"')


def test_posts_change_the_platform_count_only_when_attached(tmp_path: Path) -> None:
    ws = tmp_path / "ws.duckdb"
    assert runner.invoke(app, ["ingest", str(SMALL_OPERATION), "-w", str(ws)]).exit_code == 0
    inv = (SMALL_OPERATION / "investigations.csv").read_text().splitlines()[1].split(",")[0]

    def threads() -> int:
        res = runner.invoke(app, ["report", "--format", "json", "-w", str(ws)])
        assert res.exit_code == 0, res.output
        by_platform = json.loads(res.stdout)["platform_cases"]["by_platform"]
        return int(by_platform.get("Threads", 0))

    (tmp_path / "p.csv").write_text(
        "post_id,platform,author,text\nt1,Threads,blue_plug,blues 💊 $20 tap in\n",
        encoding="utf-8",
    )
    screened = ["screen", str(tmp_path / "p.csv"), "--method", "lexicon", "-w", str(ws)]
    assert runner.invoke(app, screened).exit_code == 0
    assert threads() == 0
    assert runner.invoke(app, [*screened, "--investigation", inv]).exit_code == 0
    assert threads() == 1


@settings(max_examples=150, deadline=None)
@given(
    st.from_regex(r"[a-z][a-z0-9_]{4,12}[a-z0-9]", fullmatch=True).filter(
        lambda h: h not in ("username", "handle")
    ),
    st.sampled_from(["sc: {h}", "snap -> {h}", "👻 {h}", "tele @{h}", "telegram: {h}"]),
    st.sampled_from(["", "blues 💊 ", "TAP IN "]),
    st.booleans(),
)
def test_any_labelled_handle_is_found(handle: str, form: str, before: str, upper: bool) -> None:
    written = form.format(h=handle.upper() if upper else handle)
    platform = "snapchat" if form.startswith(("sc", "snap", "👻")) else "telegram"
    found = {c.key for c in handles(clean(before + written))}
    if len(handle) <= 15 or platform == "telegram":
        assert f"account:{platform}:{handle}" in found
