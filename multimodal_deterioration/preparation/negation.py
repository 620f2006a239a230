"""Which keyword mentions are current findings: negation scopes, history, hypotheses and
routine procedures, found in one lower-cased sentence at a time (used by ``features``).

Negation (NegEx, Chapman et al. 2001, with the termination terms of ConText, Harkema et al.
2009), scoped to one clause of one sentence:

* a pre-negation trigger ("no", "denies", "negative for", "-ve for", "free of", "low suspicion
  for", ...) negates mentions that start after it, to the end of its clause or list: up to the
  first termination, or the end of a window of ``NEGATION_WINDOW_WORDS`` words, whichever
  comes first. The window restarts after each list separator (a comma, "and", "or", "nor")
  that closes an item of at most ``NEGATION_LIST_ITEM_WORDS`` words, so "negative for tremors,
  headaches, dizziness, ..., chills, cough" is negated to its last item however long the list;
* a post-negation trigger ("was ruled out", "unlikely", ...) negates mentions that end before
  it, back to the last termination or the start of its window (restarting before each short
  list item, as above), whichever comes last. Without a copula, "ruled out", "excluded",
  "absent", "not seen", "not present" ... are post-negations where they close their clause
  ("Sepsis ruled out.", "Edema absent bilaterally."); before their object they are read as
  pre-negations ("ruled out sepsis", "absent pulses");
* a termination ends a scope: a contrast ("but", "however", "although", "except"), a relative
  pronoun ("which", "who"), a subordinating word ("because", "since", "as", "while", "after",
  "due to"), a verb that reports a new finding ("developed", "presented with"), "and" opening a
  new clause ("and was", "and required", "and she"), a semicolon or colon, and a comma that
  opens a clause (below). So in "no fever but severe cough" only "fever" is negated, and in
  "She had no fever and was intubated" the intubation is affirmed;
* a termination joined to its trigger by nothing but adverbs belongs to the negated phrase and
  ends nothing: "not yet intubated", "never developed sepsis", "not due to sepsis" and
  "sepsis, which was ruled out" all negate sepsis or the intubation;
* a pseudo-negation ("no change", "not only", "did not improve", "no response to", ...)
  contains a trigger word but negates nothing; "no change in" exempts only its own object, the
  first item of its list: in "No change in vision, diplopia or headache" vision is unchanged
  (present) and the "no" negates diplopia and headache.

Not current findings (ConText's historical and hypothetical contexts), kept out of the counts
with the scope of a pre-negation: history ("history of sepsis", "h/o", "hx of"; but
not "a 3-day history of fever", the presenting illness) and hypotheses ("return if fever",
"should she develop a rash", "in case of bleeding"). Nor do routine procedures count: in a
stretch of a sentence between semicolons that mentions anaesthesia, intubation and mechanical
ventilation are the operation's airway ("general anaesthesia with endotracheal intubation"),
and epinephrine with a local anaesthetic or at its dilution ("lidocaine with epinephrine",
"epinephrine 1:100,000") is not a vasopressor.

The comma rule. A comma ends a scope only when the word after it opens a clause: a subject
("she", "it", "there", "her", "the patient", ...) or a verb ("was", "had", "developed", ...).
List items are noun phrases, so the commas of "denies chest pain, fever, or cough" keep the
whole list negated, while "Without antibiotics, she developed septic shock" ends the scope at
the comma.

Known limits of these rules:

* a clause whose subject is a noun is not recognised after a comma: in "Without antibiotics,
  sepsis developed" and "no seizure, and the rash resolved" the second clause stays negated;
* a subordinating word inside a negated list ends it early: "denies pain while walking or
  dyspnea" negates pain only;
* coordination before a post-negation is not split: in "She had fever and sepsis was ruled out"
  fever is negated too;
* "excluded" before its object ("we excluded sepsis") negates nothing, and the subject of a
  negated verb is not negated ("Vancomycin was not started");
* a colon ends a scope even straight after the trigger, so "Denies: fever" negates nothing;
* a list item longer than ``NEGATION_LIST_ITEM_WORDS`` words is read as a clause, so the list
  after it is negated only as far as the window reaches: in "denies pain radiating to the left
  arm, nausea or diaphoresis" nausea and diaphoresis count;
* "no change in" distributes its "no" over the rest of its list also where the writer meant
  "no change in" each item ("no change in fever or cough" negates the cough);
* a history is recognised by its trigger, not by its section: the items under a "PMH:" header
  count as current, and "presented with a history of fever" (no duration) reads as history;
* a hypothetical scope runs to the end of its clause, so in "If she develops sepsis, she will
  need the ICU" the ICU still counts; "should" is hypothetical only before its subject ("should
  she develop"), not in "she should develop";
* anaesthesia exempts every intubation of its stretch of sentence, also an emergency one
  ("Under anaesthesia she was intubated for respiratory failure": only the respiratory failure
  counts).

"Resolved" is not a negation: a symptom that resolved was present during the reported course.
Uncertain mentions ("to rule out sepsis") count as mentions.

The trigger phrases are data, the [negation] lists of ``resources/clinical_vocabulary.toml``
(read by ``vocabulary``); this module builds the triggers and their scopes from them.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Sequence

from .vocabulary import NEGATION

# ---------------------------------------------------------------------------------------------
# Negation triggers, built from the [negation] lists of the vocabulary. Regular-expression
# fragments; a space matches any run of whitespace.
# ---------------------------------------------------------------------------------------------


def _either(phrases: Sequence[str]) -> str:
    return "(?:" + "|".join(phrases) + ")"


# Historical and hypothetical mentions are not current findings: kept out of the counts with the
# scope of a pre-negation (ConText).
PRE_NEGATIONS = (*NEGATION["pre"], *NEGATION["historical"], *NEGATION["hypothetical"])

# A post-posed trigger without a copula ("Sepsis ruled out.") closes its clause: what follows
# it is punctuation, the end, a conjunction, a preposition or an adverb. Followed by anything
# else it is read as the pre-negation it also is ("ruled out sepsis", "absent pulses"), or as
# nothing ("excluded" before its object).
_CLOSES_CLAUSE = (
    r"(?=\s*(?:[.,;:!?)]|$|" + _either((*NEGATION["after_closed_clause"], r"\w+ly")) + r"\b))"
)

POST_NEGATIONS = (
    _either(NEGATION["copulas"]) + " " + _either(NEGATION["after_copula"]),
    *NEGATION["post"],
    _either(NEGATION["without_copula"]) + _CLOSES_CLAUSE,
)

PSEUDO_NEGATIONS = (*NEGATION["pseudo"], *NEGATION["not_historical"])

# Pseudo-negations that exempt only their own object: the leading "no" negates the rest of the
# list ("No change in vision, diplopia or headache").
PSEUDO_OWN_OBJECT = NEGATION["pseudo_own_object"]

# "and" opening a new clause ends a scope as the other termination words do.
TERMINATIONS = (*NEGATION["terminations"], "and " + _either(NEGATION["and_clause_openers"]))

# A comma ends a scope only where a clause opens after it (a subject or a verb follows).
CLAUSE_PUNCTUATION = (
    *NEGATION["clause_punctuation"],
    r",(?=\s*" + _either(NEGATION["comma_clause_openers"]) + r"\b)",
)

# Words after (pre-) or before (post-negation) a trigger, or after (before) the last list
# separator in its scope, that it can reach. NegEx used five; one more lets a trigger reach the
# third item of a coordinated list of two-word terms. The window guards against clause ends the
# rules do not see ("No fever was noted on the ward and the cough resolved": cough counts).
NEGATION_WINDOW_WORDS = 6

# A negated list runs on past a separator (a comma, "and", "or", "nor") that closes an item of
# at most this many words, so a review of systems of any length stays negated: "negative for
# tremors, headaches, dizziness, ..., chills, cough". Longer stretches are read as clauses.
NEGATION_LIST_ITEM_WORDS = 4

# ---------------------------------------------------------------------------------------------
# Compiled negation patterns. Written in lower case and matched against lower-cased text, which
# is several times faster than re.IGNORECASE on long alternations.
# ---------------------------------------------------------------------------------------------


def _phrase_alternatives(phrases: Sequence[str]) -> str:
    """Longest first, so "no evidence of" wins over "no"; a space matches any whitespace."""
    ordered = sorted(phrases, key=len, reverse=True)
    return "|".join("(?:" + phrase.replace(" ", r"\s+") + ")" for phrase in ordered)


# At one position the first group that matches wins: a pseudo-negation beats the trigger it
# contains ("no change" over "no"), and a post-negation beats a shorter pre-negation inside it
# ("was ruled out" over "ruled out"). finditer's leftmost rule does the rest. The word
# boundaries sit outside the alternation so that mid-word positions fail at once.
_TRIGGERS = re.compile(
    f"(?P<punct>{_phrase_alternatives(CLAUSE_PUNCTUATION)})"
    r"|\b(?:"
    f"(?P<own_object>{_phrase_alternatives(PSEUDO_OWN_OBJECT)})"
    f"|(?P<pseudo>{_phrase_alternatives(PSEUDO_NEGATIONS)})"
    f"|(?P<post>{_phrase_alternatives(POST_NEGATIONS)})"
    f"|(?P<pre>{_phrase_alternatives(PRE_NEGATIONS)})"
    f"|(?P<term>{_phrase_alternatives(TERMINATIONS)})"
    r")\b"
)

_WORD = re.compile(r"\w+")

# What separates the items of a list.
_LIST_SEPARATOR = re.compile(r",|\b(?:and|or|nor)\b")

# Routine procedures (the [negation] lists anaesthesia and local_anaesthetic): in a stretch of a
# sentence between semicolons that mentions anaesthesia, ANAESTHESIA_KEYWORDS do not count; nor
# does a keyword inside a local-anaesthetic phrase ("lidocaine with epinephrine").
_ANAESTHESIA = re.compile(r"\b(?:" + _phrase_alternatives(NEGATION["anaesthesia"]) + r")\b")
ANAESTHESIA_KEYWORDS = frozenset(NEGATION["anaesthesia_keywords"])
_LOCAL_ANAESTHETIC = re.compile(
    r"\b(?:" + _phrase_alternatives(NEGATION["local_anaesthetic"]) + r")\b"
)

# What may stand between a trigger and a termination word that belongs to the negated phrase
# ("not yet", "never developed", "not due to", "had not previously developed"): whitespace and
# adverbs.
_ADVERBS_ONLY = re.compile(r"(?:\s+\w+ly)*\s*")


# ---------------------------------------------------------------------------------------------
# Negation scopes
# ---------------------------------------------------------------------------------------------


def negated_spans(sentence: str) -> list[tuple[int, int, str]]:
    """Character scopes negated in ``sentence`` (lower case) as ``(start, end, direction)``.

    ``direction`` is "pre" (mentions starting in the span are negated) or "post" (mentions
    ending in the span are negated). A pre-negation's scope runs to the first termination after
    it or the end of its window, whichever comes first; the window restarts after each list
    separator that closes a short item. A post-negation's scope mirrors it, backwards. A
    termination word joined to the trigger by nothing but adverbs is part of the negated phrase
    and ends nothing ("not yet intubated", "never developed sepsis", "sepsis, which was ruled
    out"). A pseudo-negation that exempts its own object starts a pre-negation scope after the
    separator that ends that object ("No change in vision, diplopia or headache").

    >>> sentence = "no fever but severe cough"
    >>> [(sentence[start:end], direction) for start, end, direction in negated_spans(sentence)]
    [(' fever ', 'pre')]
    """
    pre, post, terms = [], [], []
    for match in _TRIGGERS.finditer(sentence):
        kind = match.lastgroup
        if kind in ("pre", "own_object"):
            pre.append(match)
        elif kind == "post":
            post.append(match)
        elif kind in ("term", "punct"):
            terms.append(match)
    if not pre and not post:
        return []
    layout = _SentenceLayout(sentence, terms)
    pre_spans = [layout.pre_scope(trigger) for trigger in pre]
    return [span for span in pre_spans if span is not None] + [
        layout.post_scope(trigger) for trigger in post
    ]


class _SentenceLayout:
    """Where a sentence's words, terminations and list separators start and end, sorted, and
    the scopes of its triggers measured on them."""

    def __init__(self, sentence: str, terms: list[re.Match[str]]):
        self.sentence = sentence
        self.terms = terms
        words = [(m.start(), m.end()) for m in _WORD.finditer(sentence)]
        self.word_starts = [start for start, _ in words]
        self.word_ends = [end for _, end in words]
        self.term_starts = [t.start() for t in terms]
        self.term_ends = [t.end() for t in terms]
        separators = [(m.start(), m.end()) for m in _LIST_SEPARATOR.finditer(sentence)]
        self.separator_starts = [start for start, _ in separators]
        self.separator_ends = [end for _, end in separators]

    def words_between(self, start: int, end: int) -> int:
        return bisect_right(self.word_ends, end) - bisect_left(self.word_starts, start)

    def joined(self, term: re.Match[str], start: int, end: int) -> bool:
        """Whether ``term`` belongs to the negated phrase: only adverbs lie between."""
        return (
            term.lastgroup == "term"
            and _ADVERBS_ONLY.fullmatch(self.sentence, start, end) is not None
        )

    def first_termination_after(self, position: int) -> int:
        """Where the first termination after ``position`` that is not joined to it starts."""
        reached = position
        for term in self.terms[bisect_left(self.term_starts, position) :]:
            if not self.joined(term, reached, term.start()):
                return term.start()
            reached = term.end()
        return len(self.sentence)

    def last_termination_before(self, position: int) -> int:
        """Where the last termination before ``position`` that is not joined to it ends (0 if
        there is none)."""
        reached = position
        for term in reversed(self.terms[: bisect_right(self.term_ends, position)]):
            if not self.joined(term, term.end(), reached):
                return term.end()
            reached = term.start()
        return 0

    def pre_scope(self, trigger: re.Match[str]) -> tuple[int, int, str] | None:
        """The span a pre-negation negates forwards; None for a pseudo-negation whose own
        object ends its clause."""
        position = trigger.end()
        limit = self.first_termination_after(position)
        starts, ends = self.separator_starts, self.separator_ends
        if trigger.lastgroup == "own_object":  # the scope starts after its own object
            k = bisect_left(starts, position)
            if k == len(starts) or starts[k] >= limit:
                return None
            position = ends[k]
        reach = position
        while True:
            first = bisect_left(self.word_starts, reach)
            last = first + NEGATION_WINDOW_WORDS - 1
            end = min(
                self.word_ends[last] if last < len(self.word_ends) else len(self.sentence), limit
            )
            k = bisect_left(starts, reach)
            if k == len(starts) or starts[k] >= end:
                break
            if self.words_between(reach, starts[k]) > NEGATION_LIST_ITEM_WORDS:
                break
            reach = ends[k]
        return (position, end, "pre")

    def post_scope(self, trigger: re.Match[str]) -> tuple[int, int, str]:
        """The span a post-negation negates backwards."""
        limit = self.last_termination_before(trigger.start())
        starts, ends = self.separator_starts, self.separator_ends
        reach = trigger.start()
        while True:
            before = bisect_right(self.word_ends, reach)
            start = self.word_starts[max(0, before - NEGATION_WINDOW_WORDS)] if before else reach
            start = max(start, limit)
            k = bisect_right(ends, reach) - 1
            if k < 0 or starts[k] < start:
                break
            if self.words_between(ends[k], reach) > NEGATION_LIST_ITEM_WORDS:
                break
            reach = starts[k]
        return (start, trigger.start(), "post")


def is_negated(start: int, end: int, spans: list[tuple[int, int, str]]) -> bool:
    for span_start, span_end, direction in spans:
        if direction == "pre" and span_start <= start < span_end:
            return True
        if direction == "post" and span_start < end <= span_end:
            return True
    return False


def procedural_spans(sentence: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Where ``sentence`` describes a routine procedure: the stretches between semicolons that
    mention anaesthesia, and the local-anaesthetic phrases."""
    anaesthesia = []
    if _ANAESTHESIA.search(sentence):
        start = 0
        for part in sentence.split(";"):
            if _ANAESTHESIA.search(part):
                anaesthesia.append((start, start + len(part)))
            start += len(part) + 1
    local = [m.span() for m in _LOCAL_ANAESTHETIC.finditer(sentence)]
    return anaesthesia, local


def is_procedural(
    name: str, start: int, end: int, spans: tuple[list[tuple[int, int]], list[tuple[int, int]]]
) -> bool:
    anaesthesia, local = spans
    if name in ANAESTHESIA_KEYWORDS and any(a <= start < b for a, b in anaesthesia):
        return True
    return any(a <= start and end <= b for a, b in local)
