"""Sentence checks the guard applies: what the avatar must never say, with the reason why.

Each check looks at one finished sentence and the words the conversation allows (the sheet's and
the user's). A sentence that fails is dropped; it is never edited into something nobody wrote.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from server.backends import PersonaSheet, Role, Turn
from server.persona.perspective import address_words
from server.persona.text import STOPWORDS, first_name, words

LEAK_RE = re.compile(
    r"\b(as an? (ai|a\.i\.|artificial intelligence|language model|assistant|chatbot|virtual)|language model|"
    r"large language|ai (model|assistant)|chat ?bot|virtual assistant|system (prompt|instruction|message)|"
    r"my (instructions|prompt|programming|training)|i was (programmed|trained|instructed)|persona sheet|"
    r"(the|this) (sheet|prompt|role-?play)|role-?play(ing)?|openai|gemini|smollm|i cannot pretend|"
    r"i('m| am) (just )?(an? )?(ai|a\.i\.|bot|program|computer|assistant|machine)|"
    r"sorry for your loss|my (deepest )?condolences|how (can|may) i (help|assist)|i'?m here to (help|assist))\b",
    re.IGNORECASE,
)
# Said as the person, these would be cruel lies or dangerous invitations.
ALIVE_RE = re.compile(
    r"\b(i('m| am) (still |really |truly )?(alive|back|not (really )?(dead|gone))|i never (died|left)|"
    r"it('s| is) really me|i('m| am) really (here|with you)|heaven|afterlife|after ?life|the other side|"
    r"(watching|looking) (over|down on|down at) you|up here|from beyond|beyond the grave|my spirit|"
    r"(join|come to|be with) me|we('ll| will) be together (again )?soon|see you soon|waiting for you|"
    r"when you get here|over here with me)\b",
    re.IGNORECASE,
)
RELATION_WORDS = frozenset(
    """mum mom mother mummy mommy mama mam dad father daddy papa son daughter husband wife brother sister
    grandma grandmother gran granny nan nana nanna grandpa grandfather grandad granddad gramps aunt
    auntie uncle cousin nephew niece grandson granddaughter grandchild boyfriend girlfriend fiance
    fiancee stepmother stepfather stepson stepdaughter""".split()
)
# Capitalised words that are not names of people or places.
ALWAYS_OK = frozenset(
    """i i'm i've i'd i'll oh ah hmm well yes no okay ok god christmas easter sunday monday tuesday
    wednesday thursday friday saturday january february march april may june july august september
    october november december""".split()
)
# Common words that open sentences, so "Dinner was lovely" is not mistaken for a name.
STARTERS = frozenset(
    """remember tell let come listen look promise please thank thanks sorry darling sweetheart dear honey
    everything nothing something anything everyone someone nobody somebody life work dinner lunch
    breakfast food home school love time today tonight tomorrow yesterday sometimes always never often
    once twice whenever wherever every each both most many much few little more less those these that
    this there here what when where which who why how whatever goodness gosh wow lovely good great
    wonderful fine sure course right true maybe perhaps still just only even also and but or so because
    though although while after before since until if unless keep take give go get make do don't did
    didn't can can't could couldn't would wouldn't should shouldn't will won't you're you've you'd
    you'll we're we've we'd we'll they're it's that's there's here's what's who's how's let's isn't
    wasn't aren't weren't hasn't haven't hadn't being having trying thinking seeing knowing hearing
    talking walking cooking gardening dancing singing reading working playing""".split()
)
SPEAKER_RE = re.compile(r"(^|\n)\s*[A-Z][\w ]{0,20}:\s|\b(user|assistant|system)\s*:", re.IGNORECASE)
# Words any warm reply may use without them being facts about the person's life.
CONVERSATIONAL = frozenset(
    """remember memory memories moment moments day days year years time times today things thing way lot
    bit little dear heart voice hear talk tell think know feel felt glad sorry proud wonderful lovely
    always never sometimes life world everything something nothing anything wish hope miss missing love
    loved""".split()
)
SELF_INTRO = "({name} here|(it's|it is|this is) {name}\\b)"


@lru_cache(maxsize=64)
def _sheet_vocabulary(sheet: PersonaSheet) -> frozenset[str]:
    text = " ".join(
        [
            sheet.name,
            sheet.relationship,
            sheet.user_name,
            sheet.personality,
            sheet.speaking_style,
            *sheet.memories,
            *sheet.example_phrases,
        ]
    )
    return frozenset(w.lower() for w in words(text)) | address_words(sheet.relationship)


def allowed_words(sheet: PersonaSheet, history: Sequence[Turn]) -> frozenset[str]:
    """Words (lower case) the avatar may use as names and relations: the sheet's and the user's."""
    said = " ".join(t.text for t in history if t.role is Role.USER)
    return _sheet_vocabulary(sheet) | {w.lower() for w in words(said)}


def _known_word(word: str) -> bool:
    from server.persona.emotion import _analyzer  # VADER's lexicon doubles as a list of common words

    low = word.lower()
    return low in STOPWORDS or low in STARTERS or low in ALWAYS_OK or low in _analyzer().lexicon


def problem(sentence: str, *, sheet: PersonaSheet, allowed: frozenset[str], disclose_ai: bool = False) -> str | None:
    """Why `sentence` must not be said, or None when it may."""
    if not disclose_ai and LEAK_RE.search(sentence):
        return "breaks character"
    if disclose_ai and re.search(r"\b(system prompt|instructions|sheet|openai|gemini)\b", sentence, re.IGNORECASE):
        return "leaks the prompt"
    if ALIVE_RE.search(sentence):
        return "claims to be alive or beyond"
    if SPEAKER_RE.search(sentence):
        return "contains a speaker label"
    name = re.escape(first_name(sheet.name)) if sheet.name.strip() else None
    if name and re.search(SELF_INTRO.format(name=name), sentence, re.IGNORECASE):
        return "introduces itself"
    if name and re.search(rf"\b{name}\b", sentence):
        return "speaks of itself by name"
    tokens = words(sentence)
    itself = address_words(sheet.relationship)
    for i, word in enumerate(tokens):
        low = word.lower().replace("\u2019", "'")
        base = low.removesuffix("'s")
        if base in RELATION_WORDS and base not in allowed:
            return f"relation {word!r} is not in the sheet or the user's words"
        if base in itself and (i == 0 or tokens[i - 1].lower() != "your"):
            return f"calls someone {word!r}, which is what the person was to the user"
        if not word[0].isupper() or base in allowed or base in ALWAYS_OK or base in STARTERS:
            continue
        if i > 0 and not _after_sentence_break(sentence, tokens, i):
            return f"name {word!r} is not in the sheet or the user's words"
        if i == 0 and not _known_word(base) and _looks_like_subject(tokens):
            return f"name {word!r} is not in the sheet or the user's words"
    return None


def unsupported_details(sentence: str, allowed: frozenset[str], *, limit: int = 2) -> bool:
    """Whether `sentence` states more than `limit` specifics found nowhere in the sheet or the user's words."""
    novel = [
        w
        for w in words(sentence)
        if (low := w.lower()) not in allowed
        and low not in STOPWORDS
        and low not in STARTERS
        and low not in CONVERSATIONAL
        and low not in ALWAYS_OK
        and not _in_lexicon(low)
    ]
    return len(novel) > limit


def _in_lexicon(word: str) -> bool:
    from server.persona.emotion import _analyzer

    return word in _analyzer().lexicon


def _after_sentence_break(sentence: str, tokens: list[str], i: int) -> bool:
    """Whether token i follows ': ' or '; ' or an opening quote (where capitals are normal)."""
    before = sentence.split(tokens[i])[0].rstrip()
    return before.endswith((":", '"', "\u201c", "-", "\u2014"))


def _looks_like_subject(tokens: list[str]) -> bool:
    """'Rex was...', 'Bella and I...': an unknown first word used as a name."""
    if len(tokens) < 2:
        return True
    nxt = tokens[1].lower()
    return nxt in {
        "was",
        "is",
        "had",
        "has",
        "and",
        "used",
        "loved",
        "would",
        "always",
        "never",
        "said",
        "told",
        "came",
        "went",
        "lived",
        "died",
    } or tokens[0].lower().endswith("'s")
