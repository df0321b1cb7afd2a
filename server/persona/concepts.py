"""Everyday topics as groups of related words, so 'summer holidays' can find a memory about
'every August at the seaside' without an embedding model.

The groups are general English, written for any family's memories; no sheet's words are here.
"""

from __future__ import annotations

from functools import cache

from server.persona.text import stem

GROUPS: dict[str, str] = {
    "summer": "summer summertime june july august sunny sunshine heat warm",
    "winter": "winter december january february snow snowman frost cold sledge sledging christmas",
    "spring": "spring march april may blossom easter",
    "autumn": "autumn fall september october november leaves conker halloween",
    "holiday": "holiday holidays vacation trip trips travel travelled journey away abroad seaside beach coast "
    "harbour harbor pier sea ocean caravan camping campsite resort took went visit visited",
    "seaside": "seaside beach coast harbour harbor pier sea ocean sand waves shells chips ice-cream paddle swim",
    "food": "food cook cooked cooking bake baked baking kitchen recipe dinner lunch breakfast tea meal roast "
    "cake pie pudding puddings soup bread biscuits pasta sauce curry spicy menu restaurant ordered eat ate eating",
    "birthday": "birthday birthdays party cake candles present presents gift gifts celebrate celebrated",
    "wedding": "wedding married marry marriage bride groom anniversary ring honeymoon danced vows proposed proposal "
    "engaged engagement",
    "dance": "dance danced dancing song songs music sing sang singing waltz",
    "music": "music song songs record records jazz radio piano guitar sing sang singing band concert listen "
    "listened hum",
    "sport": "sport football soccer match matches team club supporter supported cricket rugby tennis golf game "
    "games league stadium goal score",
    "garden": "garden gardening plant plants planted planting grow grew growing tomato tomatoes beans vegetables "
    "flowers roses allotment seeds greenhouse weeding",
    "pets": "dog dogs puppy cat cats kitten pet pets walk walked walks lead bark horse",
    "walk": "walk walked walking walks stroll strolled hike hiked path canal river park along evening",
    "work": "job work worked working career office shift shifts boss interview hired promotion promoted "
    "colleague retire retired employed",
    "school": "school teacher taught teach learn learned learning lesson class homework exam exams university "
    "college study studied graduate graduated degree",
    "bike": "bike bicycle cycle cycling ride rode riding wheels pedal",
    "car": "car drive drove driving road motorbike van kart go-kart",
    "build": "build built building made make making wooden wood workshop shed tools fix fixed mend mended",
    "home": "home house kitchen garden room bedroom sofa chair fireplace",
    "family": "family children kids baby grandchildren together",
    "love": "love loved miss missed missing heart dear darling sweetheart",
    "night": "night evening evenings bedtime story stories read reading book books sleep",
    "morning": "morning mornings breakfast saturday sunday weekend weekends",
    "weekend": "weekend weekends saturday sunday",
    "health": "hospital nurse doctor ill illness sick medicine care cared caring",
    "laugh": "laugh laughed laughing joke jokes funny tease teased teasing silly",
    "game": "game games play played playing cards chess board puzzle crossword",
    "church": "church chapel prayer pray sunday hymn",
    "water": "swim swam swimming pool lake river sea boat fishing fish",
    "animal": "zoo farm animals horse horses cow sheep birds",
}


@cache
def _index() -> dict[str, frozenset[str]]:
    """Stem -> the stems it is related to through any group it belongs to."""
    groups = [frozenset(stem(w) for w in text.split()) for text in GROUPS.values()]
    index: dict[str, set[str]] = {}
    for members in groups:
        for s in members:
            index.setdefault(s, set()).update(members)
    return {s: frozenset(related - {s}) for s, related in index.items()}


def related(stem_: str) -> frozenset[str]:
    """Stems that share a topic with `stem_` (empty when it belongs to none)."""
    return _index().get(stem_, frozenset())
