"""Built-in name lists and the ways case files get names wrong.

Names are drawn from short generic lists so that no record describes a real person; the mess
(accents dropped, compound surnames cut, given and family swapped, nicknames, typos) is what
entity resolution has to undo.
"""

from __future__ import annotations

import unicodedata

import numpy as np

HISPANIC_MALE = (
    "José",
    "Juan",
    "Luis",
    "Carlos",
    "Jesús",
    "Francisco",
    "Miguel",
    "Alejandro",
    "Roberto",
    "Eduardo",
    "Ignacio",
    "Rafael",
    "Manuel",
    "Enrique",
    "Alberto",
    "Sergio",
    "Ramón",
    "Raúl",
    "Héctor",
    "Óscar",
    "Andrés",
    "Joaquín",
    "Iván",
    "Rubén",
    "Julio",
    "Martín",
    "Adrián",
    "Guadalupe",
    "Ismael",
    "Aurelio",
)
HISPANIC_FEMALE = (
    "María",
    "Guadalupe",
    "Ana",
    "Rosa",
    "Verónica",
    "Mónica",
    "Adriana",
    "Claudia",
    "Leticia",
    "Yolanda",
    "Sofía",
    "Daniela",
    "Karla",
    "Beatriz",
    "Elena",
)
HISPANIC_FAMILY = (
    "Ramírez",
    "Hernández",
    "González",
    "García",
    "López",
    "Martínez",
    "Pérez",
    "Sánchez",
    "Gómez",
    "Díaz",
    "Núñez",
    "Jiménez",
    "Ochoa",
    "Ruiz",
    "Álvarez",
    "Castañeda",
    "Cárdenas",
    "Ortiz",
    "Treviño",
    "Zúñiga",
    "Márquez",
    "Ibáñez",
    "Valdés",
    "Ríos",
    "Medina",
    "Guzmán",
    "Salazar",
    "Fuentes",
    "Beltrán",
    "Córdova",
    "Peña",
    "Rendón",
    "Quiñónez",
    "Téllez",
    "Montaño",
    "Villaseñor",
    "Araújo",
    "Cázares",
    "Muñoz",
    "Espinoza",
)
OTHER_MALE = (
    "James",
    "Michael",
    "Robert",
    "William",
    "David",
    "Joseph",
    "Anthony",
    "Christopher",
    "Daniel",
    "Richard",
    "Marcus",
    "Jamal",
    "Darnell",
    "Tyrone",
    "Andre",
    "Terrence",
    "Kevin",
    "Brandon",
    "Justin",
    "Travis",
    "Cody",
    "Dustin",
    "Jerome",
    "Malik",
    "Dominic",
    "Nathan",
)
OTHER_FEMALE = (
    "Jennifer",
    "Ashley",
    "Jessica",
    "Tiffany",
    "Brittany",
    "Keisha",
    "Monique",
    "Amanda",
    "Crystal",
    "Heather",
    "Latoya",
    "Megan",
)
OTHER_FAMILY = (
    "Smith",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Davis",
    "Miller",
    "Wilson",
    "Moore",
    "Taylor",
    "Anderson",
    "Thomas",
    "Jackson",
    "White",
    "Harris",
    "Martin",
    "Thompson",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Carter",
    "Mitchell",
    "Turner",
    "Phillips",
    "Campbell",
    "Parker",
    "Evans",
    "Edwards",
    "Collins",
    "Stewart",
    "Morris",
    "Rogers",
    "Reed",
)

NICKNAMES: dict[str, tuple[str, ...]] = {
    "José": ("Pepe", "Joe", "Chepe"),
    "Francisco": ("Paco", "Pancho", "Frank"),
    "Jesús": ("Chuy",),
    "Guadalupe": ("Lupe", "Lupita"),
    "Ignacio": ("Nacho",),
    "Alejandro": ("Alex", "Alejo"),
    "Roberto": ("Beto", "Bobby"),
    "Alberto": ("Beto", "Al"),
    "Eduardo": ("Lalo", "Eddie"),
    "Enrique": ("Kike", "Henry"),
    "Rafael": ("Rafa", "Ralph"),
    "Manuel": ("Manny", "Meño"),
    "Juan": ("Johnny",),
    "Luis": ("Lucho",),
    "Carlos": ("Charlie",),
    "Miguel": ("Mike",),
    "Ramón": ("Moncho",),
    "Joaquín": ("Quino",),
    "Sergio": ("Checo",),
    "William": ("Bill", "Will", "Billy"),
    "Robert": ("Bob", "Rob", "Bobby"),
    "Michael": ("Mike", "Mikey"),
    "James": ("Jim", "Jimmy", "Jamie"),
    "Anthony": ("Tony", "Ant"),
    "Christopher": ("Chris",),
    "Joseph": ("Joe", "Joey"),
    "Richard": ("Rick", "Ricky", "Dick"),
    "Daniel": ("Danny", "Dan"),
    "David": ("Dave",),
    "Terrence": ("Terry", "T"),
    "Dominic": ("Dom",),
    "Nathan": ("Nate",),
    "María": ("Mari",),
    "Jennifer": ("Jen", "Jenny"),
    "Jessica": ("Jess",),
}

MONIKERS_ES = (
    "Flaco",
    "Güero",
    "Chato",
    "Gordo",
    "Negro",
    "Chino",
    "Tío",
    "Primo",
    "Compa",
    "Pelón",
    "Zurdo",
    "Cholo",
    "Güerito",
    "Chaparro",
    "Tocayo",
    "Mudo",
    "Pollo",
    "Gallo",
    "Toro",
    "Cuervo",
    "Ingeniero",
    "Contador",
    "Licenciado",
    "Señor",
    "Pariente",
)
MONIKERS_EN = (
    "Smoke",
    "Ghost",
    "Lil Mike",
    "Big Dre",
    "Slim",
    "Boo",
    "Trey",
    "Ace",
    "Bird",
    "Mac",
    "Peanut",
    "Red",
    "Deuce",
    "Tank",
    "Shorty",
    "Juice",
    "Blue",
    "Money",
    "Zay",
    "Flex",
)

STREETS = (
    "Example",
    "Sample",
    "Placeholder",
    "Fictional",
    "Demo",
    "Testing",
    "Mock",
    "Specimen",
    "Pattern",
    "Template",
)
STREET_SUFFIX = ("St", "Ave", "Blvd", "Dr", "Ct", "Ln", "Way")

GANG_WORDS_A = (
    "Northside",
    "Eastside",
    "Westend",
    "Southside",
    "Uptown",
    "Downtown",
    "Hillside",
    "Riverside",
    "Parkside",
    "Lakeside",
    "Crosstown",
    "Midtown",
)
GANG_WORDS_B = (
    "Hustlers",
    "Vatos",
    "Boyz",
    "Kings",
    "Locos",
    "Mafia",
    "Gang",
    "Crew",
    "Bloc",
    "Clique",
    "Familia",
    "Set",
)

HANDLE_WORDS = (
    "plug",
    "candy",
    "snow",
    "blues",
    "m30",
    "perc",
    "zaza",
    "gas",
    "loud",
    "trap",
    "dope",
    "fetti",
    "racks",
    "bando",
    "drip",
    "frosty",
    "ice",
    "kush",
    "jugg",
    "cali",
)


def strip_accents(text: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def pick(rng: np.random.Generator, items: tuple[str, ...]) -> str:
    return items[int(rng.integers(len(items)))]


def typo(rng: np.random.Generator, word: str) -> str:
    """One keyboard-style error: a swap, a drop, a doubled or a replaced letter."""
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))
    op = int(rng.integers(4))
    if op == 0:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if op == 1:
        return word[:i] + word[i + 1 :]
    if op == 2:
        return word[:i] + word[i] + word[i:]
    vowels = "aeiou"
    c = word[i]
    repl = vowels[int(rng.integers(5))] if c.lower() in vowels else c
    # Common phonetic confusions in transcribed Spanish names.
    swaps = {"z": "s", "s": "z", "v": "b", "b": "v", "ll": "y", "y": "i", "c": "k"}
    repl = swaps.get(c.lower(), repl)
    return word[:i] + repl + word[i + 1 :]
