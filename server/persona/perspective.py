"""Retell a memory the user wrote about the person as the person speaking to the user.

"She took Tom to Scarborough every August" -> "I took you to Scarborough every August";
"Mum taught me to swim" -> "I taught you to swim". Rules over words, no model: exact about
names and places because it only moves pronouns and never adds a word of its own.
"""

from __future__ import annotations

import re

from server.persona.text import STOPWORDS, capitalize_first

TOKEN_RE = re.compile(r"([A-Za-z\u00C0-\u024F]+(?:['\u2019][A-Za-z]+)?)")
SUBJECT_BEFORE = frozenset("and but when because that so then while after before until if as".split())
ADDRESS_WORDS: dict[str, tuple[str, ...]] = {
    "mother": ("mum", "mom", "mummy", "mommy", "mama", "mam", "ma", "mother"),
    "father": ("dad", "daddy", "papa", "pa", "pop", "father"),
    "grandmother": ("gran", "granny", "grandma", "nan", "nana", "nanna", "grandmother"),
    "grandfather": ("grandad", "granddad", "grandpa", "gramps", "grandfather"),
}
FEMININE = frozenset(
    """mother mum mom grandmother grandma gran nan wife sister daughter aunt auntie niece girlfriend""".split()
)
MASCULINE = frozenset("father dad grandfather grandpa grandad husband brother son uncle nephew boyfriend".split())
PRONOUNS = {
    "she": {"she": "subj", "her": "obj_or_poss", "hers": "poss_pron", "herself": "refl"},
    "he": {"he": "subj", "him": "obj", "his": "poss", "himself": "refl"},
}
USER_FIRST_PERSON = {"i": "you", "me": "you", "my": "your", "mine": "yours", "myself": "yourself"}
FIX_AGREEMENT = [
    (re.compile(r"\bI is\b"), "I am"),
    (re.compile(r"\bI has\b"), "I have"),
    (re.compile(r"\bI does\b"), "I do"),
    (re.compile(r"\bI doesn't\b"), "I don't"),
    (re.compile(r"\b([Yy]ou) (is|was|has|does|doesn't)\b"), None),
    (re.compile(r"\b([Ww]e) (is|was|has|does)\b"), None),
]
PLURAL_VERB = {"is": "are", "was": "were", "has": "have", "does": "do", "doesn't": "don't"}


def pronoun_of(relationship: str, memories: tuple[str, ...] = ()) -> str:
    """'she', 'he' or '' for the person, from the relationship or, failing that, the memories."""
    rel = relationship.lower().split()
    if any(w in FEMININE for w in rel):
        return "she"
    if any(w in MASCULINE for w in rel):
        return "he"
    text = " ".join(memories).lower()
    she = len(re.findall(r"\b(she|her|hers|herself)\b", text))
    he = len(re.findall(r"\b(he|him|his|himself)\b", text))
    return "she" if she > he else "he" if he > she else ""


def address_words(relationship: str) -> frozenset[str]:
    """What the user may call the person by relationship ('Mum', 'Dad', 'Gran'...)."""
    rel = relationship.lower().strip()
    found = {rel} if rel else set()
    for key, names in ADDRESS_WORDS.items():
        if rel == key or rel in names:
            found.update(names)
    return frozenset(found)


def retell(memory: str, *, name: str, relationship: str, user_name: str, pronoun: str) -> str:
    """The memory in the person's own voice, addressed to the user."""
    tokens = TOKEN_RE.split(memory.strip())
    names = {n.lower() for n in name.split()} | address_words(relationship)
    user = {n.lower() for n in user_name.split()} if user_name else set()
    mine = PRONOUNS.get(pronoun, {})
    other = PRONOUNS["he" if pronoun == "she" else "she"] if pronoun else {}
    user_seen = False
    plural_we = bool(re.match(r"\s*(they|the two of them|both of them)\b", memory, re.IGNORECASE)) or any(
        u in memory.lower() for u in user
    )
    out: list[str] = []
    for i, tok in enumerate(tokens):
        if i % 2 == 0:  # separators
            out.append(tok)
            continue
        low = tok.lower().replace("\u2019", "'")
        base, poss = (low[:-2], True) if low.endswith("'s") else (low, False)
        prev = _prev_word(tokens, i)
        nxt = _next_word(tokens, i)
        start = _at_clause_start(tokens, i)
        if base in user:
            user_seen = True
            out.append("your" if poss else "you")
        elif base in names and (tok[0].isupper() or prev == "my"):
            if prev == "my" and out:
                _drop_last_word(out)
                start = _at_clause_start(tokens, i - 2)
            out.append("my" if poss else ("I" if start or _is_subject(prev) else "me"))
        elif low in USER_FIRST_PERSON:
            out.append(USER_FIRST_PERSON[low])
        elif low in mine:
            out.append(_own(mine[low], nxt, start or _is_subject(prev)))
        elif user_seen and low in other:
            out.append(_yours(other[low], nxt))
        elif plural_we and low in ("they", "them", "their", "theirs", "themselves"):
            out.append({"they": "we", "them": "us", "their": "our", "theirs": "ours", "themselves": "ourselves"}[low])
        else:
            out.append(tok)
    text = "".join(out)
    for pattern, repl in FIX_AGREEMENT:
        text = (
            pattern.sub(repl, text) if repl else pattern.sub(lambda m: f"{m.group(1)} {PLURAL_VERB[m.group(2)]}", text)
        )
    text = re.sub(r"\bI and you\b", "you and I", text)
    text = re.sub(r"\bme and you\b", "you and me", text)
    text = re.sub(r"^you and I\b", "You and I", text)
    if pronoun:
        text = THIRD_PERSON_VERB_RE.sub(_first_person_verb, text)
    return capitalize_first(text.replace(" i ", " I "))


THIRD_PERSON_VERB_RE = re.compile(
    r"\b(I (?:always |never |still |often |really |just )?)([a-z]{2,}?)(ies|sses|shes|ches|xes|zes|oes|s)\b"
)


NOT_VERBS = frozenset(
    """was has is does us as this its yes less unless always sometimes perhaps towards afterwards besides""".split()
)


def _first_person_verb(m: re.Match[str]) -> str:
    """'I loves' -> 'I love' after she/he became I (past tense needs nothing)."""
    head, root, ending = m.groups()
    if root + ending in NOT_VERBS:
        return m.group(0)
    fixed = {"ies": root + "y", "s": root}.get(ending, root + ending[:-2])
    return head + fixed


def _own(role: str, nxt: str, subject: bool) -> str:
    if role == "subj":
        return "I"
    if role == "refl":
        return "myself"
    if role == "poss_pron":
        return "mine"
    if role == "poss":
        return "my"
    if role == "obj":
        return "me"
    # "her": possessive before a noun-like word, object otherwise
    return "my" if nxt and nxt not in STOPWORDS else "me"


def _yours(role: str, nxt: str) -> str:
    if role == "refl":
        return "yourself"
    if role == "poss_pron":
        return "yours"
    if role == "poss":
        return "your"
    if role == "obj_or_poss":
        return "your" if nxt and nxt not in STOPWORDS else "you"
    return "you"


def _prev_word(tokens: list[str], i: int) -> str:
    return tokens[i - 2].lower() if i >= 2 and not re.search(r"[.;:!?,]", tokens[i - 1]) else ""


def _next_word(tokens: list[str], i: int) -> str:
    return tokens[i + 2].lower() if i + 2 < len(tokens) and tokens[i + 1].strip() == "" else ""


def _at_clause_start(tokens: list[str], i: int) -> bool:
    before = "".join(tokens[: max(i, 0)])
    return not before.strip() or bool(re.search(r"[.;:!?]\s*$", before))


def _is_subject(prev: str) -> bool:
    return prev in SUBJECT_BEFORE


def _drop_last_word(out: list[str]) -> None:
    """Remove the 'my' of 'my mum' that the loop already emitted (and its following space)."""
    for j in range(len(out) - 1, -1, -1):
        if out[j].lower() == "your":  # 'my' was turned into 'your'
            del out[j : j + 2]
            return
