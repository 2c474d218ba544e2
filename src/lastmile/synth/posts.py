"""Synthetic social-media posts: dealers' offers and ordinary users' posts (issue 12).

Dealers advertise with emoji codes, slang, prices, quantities, calls to action and a contact
on another platform; ordinary users post about baking, snow days, launches, sports, their
prescriptions, jewellery, chargers, gas prices, and sell bikes and concert tickets, using
the same emojis and many of the same words. Phrasing varies widely (phrase pools with many
fillers, order shuffled, misspellings, letter case, emoji placement, phones written a dozen
ways) so that screening cannot learn the templates.

The posts have their own random stream (seeded from the operation's seed and the issue
number), so writing them changes no other synthetic output. ``write`` puts the posts in
``social/posts.csv`` (a subfolder: an interchange folder read does not take them as records)
and the labels in ``truth/posts.csv``: ``post_id,label,selectors`` with the planted contact
selectors as selector keys (``phone:+13035550187``, ``account:snapchat:name``),
``|``-separated.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import pyarrow as pa

from lastmile.selectors import normalize, selector_key

STREAM = 12
# Posts written with each scale of the operation (lastmile.synth.generate.Scale values).
COUNTS = {
    "tiny": 600,
    "division": 5_000,
    "national": 20_000,
}  # the issue number: this module's stream of the operation's seed
SALE_SHARE = 0.12
LOOKALIKE_SHARE = 0.40  # innocent posts that use the drug code's emojis or words
POST_COLUMNS = ("post_id", "platform", "author", "posted_at", "text")
TRUTH_COLUMNS = ("post_id", "label", "selectors")
START = datetime(2022, 5, 1)
PLATFORMS = ("Instagram", "TikTok", "Facebook", "Snapchat", "X")

# -- dealers ---------------------------------------------------------------------------------

PRODUCTS: dict[str, tuple[str, ...]] = {
    "fentanyl": (
        "blues",
        "BLUES",
        "bluez",
        "m30s",
        "M30",
        "m 30s",
        "M-30s",
        "dirty 30s",
        "30s",
        "blue 💊",
        "🔵💊",
        "💊💊",
        "fetty",
        "fent",
        "fetti",
        "pressed blues",
        "presses",
        "m30 blues 🔵",
        "bluesss",
        "perc 30s",
    ),
    "oxycodone": (
        "percs",
        "PERCS",
        "percz",
        "perc 10s",
        "🍌",
        "🅿️",
        "🅿️🅿️",
        "🍌🍌",
        "oxy",
        "roxys",
        "oc 80s",
        "perkz",
        "percocets",
        "p3rcs",
        "real percs",
        "10s n 30s",
    ),
    "alprazolam": (
        "bars",
        "xans",
        "XANS",
        "🍫",
        "🚌",
        "🚌🚌",
        "zans",
        "xanax bars",
        "yellow school buses",
        "hulks",
        "plank",
        "🍫 bars",
        "x@ns",
    ),
    "methamphetamine": (
        "💎",
        "💎💎",
        "tina",
        "ice",
        "🧊",
        "crystal",
        "shards 💎",
        "💙💎",
        "🔮",
        "glass",
        "go fast",
        "clear",
    ),
    "cocaine": (
        "❄️",
        "❄️❄️",
        "⛄",
        "yayo",
        "coke",
        "soft",
        "🎱",
        "8balls",
        "8 ball 🎱",
        "white girl",
        "🔑",
        "blow",
        "perico",
        "❄️ soft n hard",
    ),
    "heroin": ("🐉", "🐉🐉", "boy", "tar", "🤎", "black tar", "dope", "chiva", "H 🐉"),
    "cannabis": (
        "za",
        "zaza",
        "gas ⛽",
        "⛽⛽",
        "exotics",
        "🍃",
        "🌲",
        "tree",
        "carts",
        "loud",
        "🥦",
        "packs",
        "dabs",
        "wax",
        "🍁 flower",
        "runtz",
    ),
    "mdma": ("molly", "🍬", "beans", "❌ pills", "rolls"),
    "codeine": ("lean", "🍇🥤", "wock", "act", "tris 💜", "drank"),
    "psilocybin": ("shrooms", "🍄", "golden teachers", "boomers"),
}
# Words the lexicon does not know (dealers invent faster than any glossary).
UNKNOWN_SLANG = ("skittles", "dog food", "jerry", "new tings", "dat gud", "thizz", "woo")
OPENERS = (
    "🔌",
    "plug here",
    "yo",
    "restocked",
    "RESTOCK",
    "new drop",
    "got em",
    "👀",
    "🚨restock🚨",
    "who up",
    "plug",
    "your plug",
    "the plug",
    "🔌🔌",
    "open",
    "open now",
    "back in stock",
    "frfr",
    "bless up",
    "📢",
    "good morning 🔌",
    "new week new pack",
    "its lit",
    "we back",
    "re up done",
    "",
    "",
    "",
)
POTENCY = (
    "🚀",
    "💣",
    "💥",
    "🔥",
    "🔥🔥",
    "🚀🚀",
    "strong af",
    "fire",
    "gas",
    "💯 legit",
    "hits hard",
)
PRICES = (
    "${p} each",
    "{p}$ each",
    "${p} a pop",
    "{n} for ${q}",
    "{n} 4 {q}",
    "💯 for {q}",
    "{n}/{q}",
    "${p}",
    "{p} ea",
    "{n} for {q}$",
    "prices low",
    "best prices",
    "cheap",
    "for the low",
    "deals on bulk",
    "{p}$",
    "${q} a zip",
    "qp {q}",
    "💵 {p}",
    "💰💰",
    "cashapp ready",
    "zelle/cashapp",
    "{p} a piece",
    "${p}!!",
    "{n}pcs ${q}",
)
QUANTITIES = (
    "💯",
    "by the 💯",
    "{n} pills",
    "{n}ct",
    "qp",
    "zips",
    "half zip",
    "8th",
    "{n}g",
    "{n} grams",
    "bulk",
    "wholesale",
    "🍪",
    "🍪🍪",
    "{n}+",
    "packs",
    "1k+",
    "pounds",
)
CTAS = (
    "DM",
    "dm me",
    "DM 📲",
    "tap in",
    "tap inn",
    "TAP IN",
    "hmu",
    "HMU",
    "slide",
    "slide in my dms",
    "link in bio",
    "lnk in bio",
    "pull up",
    "we deliver 🚗",
    "delivery 🚚",
    "shipping 📦",
    "discreet shipping",
    "open 24/7",
    "📲",
    "text only",
    "inbox",
    "serious buyers only",
    "hit my line",
    "come thru",
    "who tryna",
    "on deck",
    "in stock",
    "call or text",
    "order now",
    "meet up",
    "no lowballers",
    "📲📲",
    "hmu fr",
)
DECOR = (
    "🔥",
    "💯",
    "‼️",
    "👀",
    "🤫",
    "😮‍💨",
    "💨",
    "✅",
    "💪🏾",
    "🙏🏽",
    "😈",
    "💸",
    "🤑",
    "✨",
    "📍",
)
# Contact labels: how a dealer writes a handle for another platform.
HANDLE_FORMS: tuple[tuple[str, str], ...] = (
    ("Snapchat", "sc: {h}"),
    ("Snapchat", "snap -> {h}"),
    ("Snapchat", "👻 {h}"),
    ("Snapchat", "👻: {h}"),
    ("Snapchat", "SNAP {h}"),
    ("Snapchat", "add my snap {h}"),
    ("Snapchat", "snapchat @{h}"),
    ("Snapchat", "sc~{h}"),
    ("Snapchat", "snap 👉 {h}"),
    ("Telegram", "tele @{h}"),
    ("Telegram", "telegram: {h}"),
    ("Telegram", "tg @{h}"),
    ("Telegram", "TELE -> {h}"),
    ("Telegram", "tele: @{h}"),
    ("Telegram", "telegram ➡️ @{h}"),
    ("Wickr", "wickr: {h}"),
    ("Wickr", "wickr me {h}"),
    ("Instagram", "ig @{h}"),
    ("Instagram", "insta: {h}"),
    ("Kik", "kik {h}"),
    ("Signal", "signal {h}"),
)
WORDS_FOR_DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
KEYCAPS = tuple(f"{d}\ufe0f\u20e3" for d in "0123456789")
HANDLE_PARTS_A = (
    "blue",
    "plug",
    "big",
    "lil",
    "trap",
    "young",
    "real",
    "og",
    "frosty",
    "cookie",
    "zoo",
    "gas",
    "candy",
    "lucky",
    "dr",
    "smoke",
    "north",
    "west",
    "east",
    "south",
    "king",
    "bando",
)
HANDLE_PARTS_B = (
    "plug",
    "man",
    "supply",
    "connect",
    "goods",
    "dealz",
    "kitchen",
    "vibes",
    "shop",
    "motion",
    "fam",
    "gang",
    "boy",
    "kid",
    "world",
    "zone",
    "pharm",
    "store",
)
AREAS = ("303", "720", "602", "480", "213", "323", "312", "773", "313", "502", "402", "305")

# -- ordinary users ---------------------------------------------------------------------------

LOOKALIKES: tuple[str, ...] = (
    "Baked a fresh batch of chocolate chip {cookie} for the bake sale! Recipe in the comments",
    "grandma's {cookie} recipe never misses {heart}",
    "{cookie} and milk kind of night",
    "SNOW DAY {snow} no school tomorrow!! sledding at 10",
    "{snow} 8 inches of snow overnight, roads are bad, stay home y'all",
    "first snow of the winter {snow}{snowman} the kids built a snowman",
    "school closed {snow} {bus} isn't running",
    "Launch day {rocket} Falcon 9 lifts off at 6:42pm, watching from the beach",
    "{rocket} liftoff!! what a launch, spacex never gets old",
    "our team is going to the moon {rocket} playoffs here we come",
    "that game was {fire}{fire} touchdown in the last 10 seconds",
    "{hundred} percent the best halftime show ever {fire}",
    "gameday {fire} lets go team, final score 28-14",
    "picked up my prescription {pill} after surgery, doctor says take it easy",
    "does anyone else get headaches from their meds {pill} my dr changed my dosage",
    "don't forget your vitamins {pill} and water today",
    "lost my car keys again {key} send help",
    "new house keys {key} we closed today!! so grateful",
    "8 ball pool tournament tonight {eightball} at the bar",
    "Happy lunar new year {dragon} year of the dragon",
    "banana bread {banana} came out perfect, my kitchen smells amazing",
    "{banana}{banana} smoothie before the gym",
    "need a phone charger {plug} mine died",
    "anyone know a good electrician? outlet {plug} sparked",
    "gas {gas} is $4.89 now, this is crazy",
    "diamond {gem} ring!! she said yes {heart}",
    "my birthstone {gem} necklace from mom",
    "{crystal} tarot readings this weekend, message me to book, $20 a reading",
    "blue {blueheart} is my favorite color",
    "mushroom {mushroom} risotto for dinner tonight",
    "grapes {grape} and cheese board for the party",
    "Christmas tree {tree} is up, the dog already knocked an ornament off",
    "halloween candy {candy} haul, the kids got so much",
    "the bus {bus} was 20 minutes late again",
    "spitting bars {fire} new song out friday, link in bio",
    "blues night at the jazz club, live music from 8",
    "this beat is gas {gas}{fire} go stream it",
    "chocolate {choc} is my love language",
    "selling my old bike $50, dm me if interested",
    "2 concert tickets for sale $80 each, dm",
    "yard sale saturday 8am, everything must go {money}",
    "call our bakery at {phone} to order {cookie} for your party",
    "lost dog!! call {phone} if you see her {heart}",
    "ice skating {snow} with the fam",
    "fentanyl is killing our kids. one pill can kill. talk to your children {pill}",
    "RIP to my cousin, fake pills {pill} took him. please be careful out there",
    "DEA seized 50,000 fentanyl pills in Denver today, news at 10",
    "narcan saves lives, free kits at the library {pill}",
    "recovery is possible, 2 years clean today {heart}",
    "my doctor prescribed percocet after my knee surgery, side effects are rough",
    "the xanax my psychiatrist prescribed actually helps my anxiety",
    "hot chocolate {choc} and snow {snow} perfect day",
    "plugged in the new speakers {plug} sound is fire {fire}",
    "new merch dropping friday {fire} tap in, link in bio",
    "DM for commissions, portraits $40 each {heart}",
    "homemade {cookie} for sale, 12 for $15, order by friday",
    "who needs a ride to the game tonight? {car}",
    "100 days of school {hundred} today, proud of my kindergartners",
    "this ice {snow} on the driveway almost took me out",
    "working on my crystal {crystal} collection, new amethyst came in",
    # Ordinary sellers and services, with the dealers' words of offer: prices, "DM", a
    # number, a snap; news and warnings that quote the drug code; buyers asking.
    "the sneaker plug {plug} jordans sz 8-13, $220 shipped, receipts available. text {phone}",
    "fast chargers {plug} 3 for $20, usb-c cables too, dm me, pickup by the mall",
    "{gem} moissanite tennis chains restock, 14k gold, $180, ship nationwide {fire} dm",
    "fresh cut christmas trees {tree} fraser fir $60, wreaths $25, call {phone} for delivery",
    "snow plowing {snow} driveways $40 a push, seasonal contracts, text {phone}",
    "custom cakes {gem} drip cakes and cupcakes from $85, order 2 weeks ahead, call {phone}",
    "new nft drop tonight {rocket}{gem} mint price 0.05 eth, whitelist open, dont fade",
    "puppies {heart} ready for new homes, vet checked, first shots, $1200, text {phone}",
    "2016 civic, 89k miles, clean title {car} $11,500 obo, call or text {phone}",
    "DEA seized 10,000 M30 pills {pill} worth $200k in a traffic stop, officials say",
    "man sentenced to 12 years for selling fentanyl laced percs {pill} on snapchat, "
    "prosecutors said",
    "a counterfeit M30 {pill} sells for $5 now, down from $20, the report says. 7 in 10 are lethal",
    "free narcan and fentanyl test strips {blueheart} text {phone} and we drop off, save a life",
    "parents: if your kid's phone says blues, M30 or fetty {pill} that is fentanyl, talk to them",
    "where can i get percs {banana} around here, my guy got locked up, dm me",
    "anyone know who has blues {blueheart}? need some bad, hmu",
    "lean bulk {fire} going well, down to 12% body fat, protein every meal",
    "my doctor is tapering me off 15mg oxy after 6 years {pill} not looking for pills, "
    "just support",
)
FILL = {
    "cookie": ("🍪", "🍪🍪", "🍪🍪🍪", "cookies", "🍪 cookies"),
    "heart": ("❤️", "💙", "💜", "🥰", "😍", "🤎"),
    "snow": ("❄️", "❄️❄️", "☃️", "⛄", "🌨️"),
    "snowman": ("⛄", "☃️", ""),
    "bus": ("🚌", "school bus", "🚌🚌"),
    "rocket": ("🚀", "🚀🚀", "🚀🌕"),
    "fire": ("🔥", "💥", "💣"),
    "hundred": ("💯", "💯💯"),
    "pill": ("💊", "💊💊"),
    "key": ("🔑", "🔑🔑"),
    "eightball": ("🎱",),
    "dragon": ("🐉", "🐲🐉"),
    "banana": ("🍌",),
    "plug": ("🔌",),
    "gas": ("⛽",),
    "gem": ("💎", "💍💎"),
    "crystal": ("🔮", "💎"),
    "blueheart": ("💙", "🔵💙"),
    "mushroom": ("🍄",),
    "grape": ("🍇",),
    "tree": ("🌲", "🎄🌲"),
    "candy": ("🍬", "🍭🍬"),
    "choc": ("🍫",),
    "money": ("💰", "💵"),
    "car": ("🚗",),
}
ORDINARY = (
    "great day at the beach {e}",
    "can't wait for the weekend",
    "coffee first {e}",
    "happy birthday to my best friend {e}",
    "new job starts monday {e}",
    "so proud of my kids",
    "anyone watching the show tonight?",
    "traffic is insane on I-25 today",
    "gym done {e}",
    "this weather though {e}",
    "just finished a 10k run {e}",
    "date night {e}",
    "who else is tired of mondays",
    "throwback to summer {e}",
    "garden update: tomatoes {e}",
    "movie recommendations? need something funny",
    "my cat is judging me again {e}",
    "congrats to the class of 2023 {e}",
    "pizza friday {e}",
    "road trip playlist ideas?",
)
NEUTRAL_EMOJI = ("😂", "❤️", "🙌", "😍", "🎉", "☀️", "🌊", "🐶", "🐱", "🌮", "🎶", "🙏", "😎", "")


@dataclass(frozen=True)
class Known:
    """Selectors of the operation's dealers that posts may carry (ties posts to subjects)."""

    authors: tuple[tuple[str, str], ...]  # (platform, handle) of social-media accounts
    phones: tuple[str, ...]  # E.164
    handles: tuple[tuple[str, str], ...]  # (platform, handle) on Snapchat, Telegram...


def known_from_records(
    subjects: Sequence[dict[str, str]], selectors: Sequence[dict[str, str]]
) -> Known:
    """Dealers' and distributors' selectors from the operation's records."""
    sellers = {
        s.get("subject_id", "")
        for s in subjects
        if s.get("role") in ("dealer", "distributor", "courier")
    }
    authors, phones, handles = [], [], []
    for sel in selectors:
        if sel.get("subject_id", "") not in sellers:
            continue
        kind, value, platform = sel.get("kind"), sel.get("value", ""), sel.get("platform", "")
        if kind == "phone":
            n = normalize("phone", value)
            if n.valid:
                phones.append(n.value)
        elif kind == "account" and platform:
            n = normalize("account", value, platform=platform)
            if not n.valid or n.value.startswith("+") or "@" in n.value:
                continue
            if platform in ("Instagram", "TikTok", "Facebook"):
                authors.append((platform, n.value))
            elif platform in ("Snapchat", "Telegram", "Wickr"):
                handles.append((platform, n.value))
    return Known(
        tuple(sorted(set(authors))), tuple(sorted(set(phones))), tuple(sorted(set(handles)))
    )


class _Gen:
    def __init__(self, rng: random.Random, known: Known) -> None:
        self.r = rng
        self.known = known

    def pick(self, seq: Sequence[str]) -> str:
        return seq[self.r.randrange(len(seq))]

    def handle(self) -> str:
        r = self.r
        a, b = self.pick(HANDLE_PARTS_A), self.pick(HANDLE_PARTS_B)
        sep = self.pick(("", "_", ".", "", "_"))
        tail = str(r.randrange(1, 999)) if r.random() < 0.6 else ""
        return f"{a}{sep}{b}{tail}"

    def phone(self) -> str:
        if self.known.phones and self.r.random() < 0.5:
            return self.pick(self.known.phones)
        return f"+1{self.pick(AREAS)}555{self.r.randrange(100, 200):04d}"

    def write_phone(self, e164: str) -> str:
        r = self.r
        d = e164[2:] if e164.startswith("+1") else e164.lstrip("+")
        a, b, c = d[:3], d[3:6], d[6:]
        style = r.randrange(12)
        if style == 0:
            return f"{a}-{b}-{c}"
        if style == 1:
            return f"({a}) {b}-{c}"
        if style == 2:
            return f"{a}.{b}.{c}"
        if style == 3:
            return " ".join(d)
        if style == 4:
            return f"{a} {b} {c}"
        if style == 5:
            return " ".join(WORDS_FOR_DIGITS[int(x)] for x in d)
        if style == 6:
            return "".join(KEYCAPS[int(x)] for x in d)
        if style == 7:
            return f"{a} {' '.join(WORDS_FOR_DIGITS[int(x)] for x in b)} {c}"
        if style == 8:
            return f"+1 {a} {b} {c}"
        if style == 9:
            return d.replace("0", "O")
        if style == 10:
            return f"{a}-{''.join(KEYCAPS[int(x)] for x in b)}-{c}"
        return d

    def contact(self) -> tuple[str, str]:
        """(text, selector key) of one planted contact."""
        r = self.r
        if r.random() < 0.5:
            e164 = self.phone()
            label = self.pick(("", "", "call/text ", "txt ", "📲 ", "☎️ ", "number: ", "hmu @ "))
            return label + self.write_phone(e164), selector_key("phone", e164)
        known = [h for h in self.known.handles if r.random() < 0.5]
        if known and r.random() < 0.5:
            platform, handle = self.pick([f"{p}\t{h}" for p, h in known]).split("\t")
            forms = [f for p, f in HANDLE_FORMS if p == platform] or ["{h}"]
            form = self.pick(forms)
        else:
            platform, form = HANDLE_FORMS[r.randrange(len(HANDLE_FORMS))]
            handle = self.handle()
        if platform == "Signal" and "." not in handle[-4:]:
            handle = f"{handle.replace('.', '_')}.{r.randrange(10, 99)}"  # Signal: name.NN
        norm = normalize("account", handle, platform=platform)
        if not norm.valid:
            handle = "plug" + str(r.randrange(1000, 9999))
            norm = normalize("account", handle, platform=platform)
        shown = handle.upper() if r.random() < 0.1 else handle
        return form.format(h=shown), selector_key("account", norm.value, platform)

    def noisy(self, text: str) -> str:
        """Misspellings, letter case, emoji placement."""
        r = self.r
        chars = list(text)
        for _ in range(r.randrange(3)):
            if len(chars) > 4:
                i = r.randrange(len(chars))
                if chars[i].isalpha():
                    op = r.randrange(3)
                    if op == 0:
                        chars.insert(i, chars[i])  # doubled letter
                    elif op == 1 and i + 1 < len(chars) and chars[i + 1].isalpha():
                        chars[i], chars[i + 1] = chars[i + 1], chars[i]
                    elif op == 2:
                        chars[i] = chars[i].upper()
        text = "".join(chars)
        roll = r.random()
        if roll < 0.1:
            text = text.upper()
        elif roll < 0.3:
            text = text.lower()
        return text

    def sale(self) -> tuple[str, list[str]]:
        r = self.r
        parts: list[str] = []
        drugs = r.sample(list(PRODUCTS), k=1 + (r.random() < 0.45) + (r.random() < 0.2))
        products = [self.pick(PRODUCTS[d]) for d in drugs]
        if r.random() < 0.15:
            products.append(self.pick(UNKNOWN_SLANG))
        n, p = self.pick(("10", "20", "50", "100", "5", "3", "2")), r.randrange(5, 60)
        q = p * int(n) - r.randrange(0, 5) * int(n)
        fill = {"n": n, "p": str(p), "q": str(max(q, 10))}
        keys: list[str] = []
        if r.random() < 0.18:
            # A menu: one product and price a line.
            lines = [self.pick(("MENU 📝", "menu", "🗒 MENU", "prices:", "whats available:"))]
            for prod in [*products, self.pick(PRODUCTS[self.pick(list(PRODUCTS))])]:
                lines.append(f"{prod} {self.pick(('-', ':', '', '=', '➡️'))} ${r.randrange(5, 300)}")
            parts.append("\n".join(lines))
        else:
            parts.extend(products)
            if r.random() < 0.7:
                parts.append(self.pick(PRICES).format(**fill))
            if r.random() < 0.45:
                parts.append(self.pick(QUANTITIES).format(**fill))
        if r.random() < 0.5:
            parts.append(self.pick(POTENCY))
        if r.random() < 0.8:
            parts.append(self.pick(CTAS))
        contacts = 1 if r.random() < 0.75 else 0
        contacts += contacts and r.random() < 0.2
        contact_parts = []
        for _ in range(contacts):
            text, key = self.contact()
            contact_parts.append(text)
            keys.append(key)
        r.shuffle(parts)
        opener = self.pick(OPENERS)
        body = self.noisy(self.pick((" ", " ", " | ", "\n", " • ", ", ", "  ")).join(parts))
        for _ in range(r.randrange(4)):
            body = self._place(body, self.pick(DECOR))
        tail = " ".join(contact_parts)
        # Posts are at most 280 characters; the body gives way, never the planted contact.
        room = 280 - len(tail) - len(opener) - 2
        text = " ".join(x for x in (opener, body[: max(room, 0)], tail) if x)
        return text, keys

    def _place(self, text: str, emoji: str) -> str:
        spaces = [i for i, c in enumerate(text) if c == " "] or [len(text)]
        i = self.pick([str(s) for s in spaces] + [str(len(text)), "0"])
        k = int(i)
        return text[:k] + " " + emoji + text[k:]

    def lookalike(self) -> tuple[str, list[str]]:
        template = self.pick(LOOKALIKES)
        keys: list[str] = []
        fill = {k: self.pick(v) for k, v in FILL.items()}
        if "{phone}" in template:
            e164 = f"+1{self.pick(AREAS)}555{self.r.randrange(100, 200):04d}"
            phone = self.write_phone(e164) if self.r.random() < 0.5 else e164[2:]
            keys.append(selector_key("phone", e164))
        fill["phone"] = "\x00"  # misspellings never touch the number
        text = self.noisy(template.format(**fill)).replace("\x00", phone if keys else "")
        if self.r.random() < 0.3:
            text = self._place(text, self.pick(DECOR))
        return text[:280], keys

    def ordinary(self) -> str:
        text = self.pick(ORDINARY).format(e=self.pick(NEUTRAL_EMOJI)).strip()
        return self.noisy(text)[:280]


def generate(seed: int, n: int, known: Known | None = None) -> tuple[pa.Table, pa.Table]:
    """``n`` posts and their truth (POST_COLUMNS, TRUTH_COLUMNS), the same for the same seed."""
    sub = np.random.SeedSequence([seed, STREAM]).generate_state(1)[0]
    rng = random.Random(int(sub))
    g = _Gen(rng, known or Known((), (), ()))
    rows: dict[str, list[str]] = {c: [] for c in POST_COLUMNS}
    truth: dict[str, list[str]] = {c: [] for c in TRUTH_COLUMNS}
    authors = list(g.known.authors)
    for i in range(n):
        roll = rng.random()
        post_id = f"P{i + 1:07d}"
        if roll < SALE_SHARE:
            text, keys = g.sale()
            label = "sale"
            if authors and rng.random() < 0.5:
                platform, author = authors[rng.randrange(len(authors))]
            else:
                platform, author = g.pick(PLATFORMS), g.handle()
        else:
            keys = []
            if roll < SALE_SHARE + LOOKALIKE_SHARE:
                text, keys = g.lookalike()
            else:
                text = g.ordinary()
            label = "none"
            platform = g.pick(PLATFORMS)
            author = g.pick(("jess", "mike", "the", "sunny", "coach", "mama", "dan")) + str(
                rng.randrange(10, 9999)
            )
        posted = START + timedelta(seconds=rng.randrange(365 * 86400))
        rows["post_id"].append(post_id)
        rows["platform"].append(platform)
        rows["author"].append(author)
        rows["posted_at"].append(posted.strftime("%Y-%m-%dT%H:%M:%SZ"))
        rows["text"].append(text)
        truth["post_id"].append(post_id)
        truth["label"].append(label)
        truth["selectors"].append("|".join(dict.fromkeys(keys)))
    return (
        pa.table({c: pa.array(v, pa.string()) for c, v in rows.items()}),
        pa.table({c: pa.array(v, pa.string()) for c, v in truth.items()}),
    )


def write(
    writer: object,
    seed: int,
    n: int,
    subjects: Sequence[dict[str, str]] = (),
    selectors: Sequence[dict[str, str]] = (),
) -> None:
    """Write ``social/posts.csv`` and ``truth/posts.csv`` with a synth Writer, and an empty
    interchange ``posts.csv``: the operation attaches no post to an investigation (an analyst
    does, with ``lastmile screen --investigation``), but its folder has every record type."""
    from lastmile.model import POSTS
    from lastmile.synth.writer import Writer

    assert isinstance(writer, Writer)
    writer.record_type(POSTS, [])
    posts, truth = generate(seed, n, known_from_records(subjects, selectors))
    writer.table("social/posts.csv", posts)
    writer.table("truth/posts.csv", truth)
