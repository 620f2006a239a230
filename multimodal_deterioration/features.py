"""Keyword and negation-aware clinical features, one row per note (``clinical_features.csv``).

Counting. For each keyword family (symptoms, medications, severity, deterioration) a note's
*hits* are the number of DISTINCT keywords of that family mentioned at least once without
negation. This mirrors the reference script, which counted the keywords present in a note; it
differs in three deliberate ways: matches respect word boundaries ("pain" does not match
"Spain"), a negated mention does not count, and a longer keyword owns its words, also across
families ("chest pain" counts as "chest pain", not also as "pain"; "critical care unit" as
intensive care, not also as the severity word "critical"). Each keyword's pattern also matches
simple inflections and close synonyms ("worsened", "dyspnoea", "noradrenaline").

Negation (NegEx, Chapman et al. 2001, with the termination terms of ConText, Harkema et al.
2009), scoped to one clause of one sentence:

* a pre-negation trigger ("no", "denies", "negative for", "without", ...) negates mentions that
  start after it, up to the first termination or the end of a window of
  ``NEGATION_WINDOW_WORDS`` words, whichever comes first;
* a post-negation trigger ("was ruled out", "unlikely", ...) negates mentions that end before
  it, back to the last termination or the start of its window, whichever comes last. Without a
  copula, "ruled out", "excluded", "absent", "not seen", "not present" ... are post-negations
  where they close their clause ("Sepsis ruled out.", "Edema absent bilaterally."); before
  their object they are read as pre-negations ("ruled out sepsis", "absent pulses");
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
  contains a trigger word but negates nothing.

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
* a colon ends a scope even straight after the trigger, so "Denies: fever" negates nothing.

"Resolved" is not a negation: a symptom that resolved was present during the reported course.
Hypothetical and uncertain mentions ("to rule out sepsis") count as mentions.

Summary counts come from the AGBonnet ``summary`` JSON (``symptoms`` and ``treatments`` lists):
the number of entries with a real name. They are NaN where the summary cannot tell (missing,
not JSON, no such key), because 0 would claim the note has no symptoms.
"""

from __future__ import annotations

import functools
import json
import math
import os
import re
from bisect import bisect_left, bisect_right
from collections.abc import Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from types import MappingProxyType
from typing import Any

import numpy as np
import pandas as pd
from nltk.tokenize.punkt import (  # the flags are Punkt's own, stable since NLTK 2
    _ORTHO_BEG_UC,
    _ORTHO_MID_LC,
    PunktParameters,
    PunktSentenceTokenizer,
)
from tqdm import tqdm

# ---------------------------------------------------------------------------------------------
# Sentence splitting
# ---------------------------------------------------------------------------------------------

# Words that end in a period inside a sentence in case reports: titles, Latin, units and dosing
# abbreviations. Punkt stores them lower-case, without the final period.
# "no" (as in "No. 3") is deliberately absent: numbered items are rare in case reports, but a
# sentence ending in "no." ("asked about chest pain, she said no.") is not, and joining it to
# the next sentence would let that "no" negate the next sentence's first words.
SENTENCE_ABBREVIATIONS = frozenset(
    {
        # titles and names
        "dr", "drs", "mr", "mrs", "ms", "prof", "st", "jr", "sr", "al",
        # Latin and general English
        "e.g", "i.e", "etc", "vs", "cf", "approx", "ca", "fig", "figs", "ref", "vol", "pt", "pts",
        # units and time
        "mg", "mcg", "kg", "ml", "dl", "mm", "cm", "mmol", "meq", "iu", "hr", "hrs", "min",
        "mins", "sec", "wk", "wks", "mo", "mos", "yr", "yrs", "temp", "resp", "max",
        # dosing and routes
        "b.i.d", "t.i.d", "q.i.d", "q.d", "p.r.n", "p.o", "i.v", "i.m", "s.c", "a.m", "p.m",
    }
)

# After an abbreviation or a single letter ("2 g."), Punkt starts a new sentence only when it
# has evidence that the next word opens sentences ("... 40 mg. The patient ..."). Without
# trained NLTK data we supply that evidence for the openings most common in case reports.
# "a" is left out because "Dr. A. Smith" would split.
SENTENCE_STARTERS = frozenset(
    {
        "the", "an", "he", "she", "his", "her", "they", "their", "we", "it", "this", "these",
        "there", "on", "in", "at", "after", "during", "following", "however", "no", "one", "two",
        "three", "physical", "laboratory", "blood", "subsequently", "thereafter",
    }
)

# A blank line is a paragraph break in every note source we read; Punkt itself ignores layout.
_PARAGRAPH_BREAK = re.compile(r"\n[ \t\r\f\v]*\n")


def _build_sentence_tokenizer() -> PunktSentenceTokenizer:
    params = PunktParameters()
    params.abbrev_types = set(SENTENCE_ABBREVIATIONS)
    for word in SENTENCE_STARTERS:
        # As if training had seen the word capitalised only at sentence starts and in lower
        # case inside sentences: Punkt's orthographic evidence that it starts a sentence.
        params.add_ortho_context(word, _ORTHO_BEG_UC | _ORTHO_MID_LC)
    # Passing parameters instead of training text means no NLTK data is read or downloaded.
    return PunktSentenceTokenizer(params)


_SENTENCE_TOKENIZER = _build_sentence_tokenizer()


def split_sentences(text: str) -> list[str]:
    """Split ``text`` into stripped, non-empty sentences (Punkt, no NLTK data needed).

    A blank line always ends a sentence; single line breaks are read as spaces.
    """
    sentences = []
    for paragraph in _PARAGRAPH_BREAK.split(text):
        if paragraph.strip():
            sentences.extend(s.strip() for s in _SENTENCE_TOKENIZER.tokenize(paragraph))
    return [s for s in sentences if s]


# Notes per task sent to a worker process: large enough that pickling is a small share.
NOTES_PER_TASK = 256


def available_cores() -> int:
    """CPU cores this process may use (its affinity where the OS tells, else all)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS and Windows have no affinity call
        return os.cpu_count() or 1


def in_worker_processes(function, items: list, workers: int, done=None) -> list:
    """``function`` over chunks of ``items``, results concatenated in order; in worker processes
    when ``workers > 1`` and there is more than one chunk. Same result either way. ``done(n)``
    is called as each chunk of n items finishes (for a progress bar)."""
    chunks = [items[i : i + NOTES_PER_TASK] for i in range(0, len(items), NOTES_PER_TASK)]
    if workers <= 1 or len(chunks) <= 1:
        return _joined(chunks, map(function, chunks), done)
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        return _joined(chunks, pool.map(function, chunks), done)


def _joined(chunks: list[list], results, done) -> list:
    joined = []
    for chunk, result in zip(chunks, results):
        joined.extend(result)
        if done is not None:
            done(len(chunk))
    return joined


def _split_each(texts: list[str]) -> list[list[str]]:
    return [split_sentences(_as_text(text)) for text in texts]


def split_notes(texts: Sequence[str], workers: int = 1) -> list[list[str]]:
    """Each note's sentences (``split_sentences``), split once and shared by the feature
    extraction and the key-sentence selection; over ``workers`` processes."""
    return in_worker_processes(_split_each, list(texts), workers)


# ---------------------------------------------------------------------------------------------
# Keyword families: canonical keyword -> regular expression (non-capturing groups only).
# Chosen from the reference script's lists and the vocabulary of published case reports
# (PMC-Patients, the source of AGBonnet/augmented-clinical-notes), with British spellings.
# ---------------------------------------------------------------------------------------------

SYMPTOM_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {
        "fever": r"fevers?|febrile|pyrexia",
        "chills": r"chills?|rigors?",
        "pain": r"pains?|painful",
        "chest pain": r"chest pains?",
        "abdominal pain": r"abdominal pains?",
        "headache": r"headaches?",
        "dyspnea": r"dyspno?eas?|dyspneic|dyspnoeic",
        "shortness of breath": r"shortness of breath|breathlessness|sob",
        "cough": r"cough(?:s|ing)?",
        "wheezing": r"wheez(?:e|es|ing)",
        "hemoptysis": r"ha?emoptysis",
        "nausea": r"nausea|nauseated|nauseous",
        "vomiting": r"vomit(?:s|ed|ing)?|emesis",
        "diarrhea": r"diarrho?ea",
        "fatigue": r"fatigued?|tiredness",
        "malaise": r"malaise",
        "weakness": r"weakness",
        "dizziness": r"dizzy|dizziness|vertigo",
        "syncope": r"syncop(?:e|al)|fainted|fainting",
        "confusion": r"confus(?:ed|ion)|disorient(?:ed|ation)|delirium",
        "altered mental status": r"altered (?:mental status|consciousness|sensorium)",
        "lethargy": r"letharg(?:y|ic)",
        "seizure": r"seizures?|convulsions?",
        "numbness": r"numbness|pa?raesthesias?|paresthesias?",
        "palpitations": r"palpitations?",
        "tachycardia": r"tachycardi(?:a|c)",
        "bradycardia": r"bradycardi(?:a|c)",
        "tachypnea": r"tachypno?e(?:a|ic)",
        "hypotension": r"hypotensi(?:on|ve)",
        "hypoxia": r"hypox(?:ia|ic|emia|aemia)",
        "cyanosis": r"cyano(?:sis|tic)",
        "edema": r"o?edema(?:tous)?",
        "swelling": r"swelling|swollen",
        "rash": r"rash(?:es)?",
        "jaundice": r"jaundiced?|icterus",
        "bleeding": r"bleed(?:s|ing)?|ha?emorrhag(?:e|es|ic)",
        "weight loss": r"weight loss",
        "loss of appetite": r"(?:loss of|poor|decreased) appetite|anorexia",
        "sweating": r"night sweats|sweating|diaphoresis|diaphoretic",
        "dysuria": r"dysuria",
        "oliguria": r"oligur(?:ia|ic)|anur(?:ia|ic)",
    }
)

MEDICATION_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {
        "aspirin": r"aspirin|acetylsalicylic acid",
        "heparin": r"heparin",
        "low-molecular-weight heparin": r"enoxaparin|low molecular weight heparin|lmwh",
        "warfarin": r"warfarin",
        "clopidogrel": r"clopidogrel",
        "insulin": r"insulin",
        "metformin": r"metformin",
        "antibiotics": r"antibiotics?|antimicrobials?",
        "vancomycin": r"vancomycin",
        "ceftriaxone": r"ceftriaxone",
        "piperacillin": r"piperacillin",
        "amoxicillin": r"amox[iy]cillin|co-amoxiclav",
        "meropenem": r"meropenem",
        "metronidazole": r"metronidazole",
        "azithromycin": r"azithromycin",
        "ciprofloxacin": r"ciprofloxacin",
        "acyclovir": r"acyclovir|aciclovir",
        "prednisone": r"prednisone",
        "prednisolone": r"prednisolone",
        "dexamethasone": r"dexamethasone",
        "methylprednisolone": r"methylprednisolone",
        "hydrocortisone": r"hydrocortisone",
        "corticosteroids": r"(?:cortico)?steroids?|glucocorticoids?",
        "morphine": r"morphine",
        "fentanyl": r"fentanyl",
        "acetaminophen": r"acetaminophen|paracetamol",
        "nsaids": r"nsaids?|ibuprofen|naproxen|diclofenac",
        "furosemide": r"furosemide|frusemide",
        "norepinephrine": r"norepinephrine|noradrenaline",
        "epinephrine": r"epinephrine|adrenaline",
        "dopamine": r"dopamine",
        "dobutamine": r"dobutamine",
        "vasopressin": r"vasopressin",
        "vasopressors": r"vasopressors?|inotropes?",
        "amiodarone": r"amiodarone",
        "beta-blockers": r"beta blockers?|metoprolol|bisoprolol|atenolol|propranolol|carvedilol",
        "statins": r"statins?|atorvastatin|rosuvastatin|simvastatin",
        "thrombolytics": r"alteplase|tenecteplase|thrombolytics?|thrombolysis",
    }
)

SEVERITY_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {
        "severe": r"severe(?:ly)?",
        "critical": r"critical(?:ly)?",
        "acute": r"acute(?:ly)?",
        "life-threatening": r"life threatening",
        "refractory": r"refractory",
        "massive": r"massive(?:ly)?",
        "fulminant": r"fulminant",
        "profound": r"profound(?:ly)?",
        "intractable": r"intractable",
        "overwhelming": r"overwhelming",
        "serious": r"serious(?:ly)?",
        "catastrophic": r"catastrophic",
    }
)

DETERIORATION_KEYWORDS: Mapping[str, str] = MappingProxyType(
    {
        "deterioration": r"deteriorat(?:e|ed|es|ing|ion)",
        "worsening": r"worsen(?:ed|ing|s)?",
        # "declined" is left out: in case reports it is mostly a refusal ("declined surgery").
        "decline": r"decline|declining",
        "decompensation": r"decompensat(?:ed|ion|ing)",
        # "unstable angina" is a diagnosis, not instability.
        "unstable": r"unstable(?! angina)|ha?emodynamic instability",
        "intubation": r"(?:re)?intubat(?:e|ed|ion)",
        "mechanical ventilation": r"mechanical(?:ly)? ventilat(?:ion|ed)|ventilator",
        "intensive care": r"intensive care(?: unit)?|critical care unit|[npc]?icu",
        "cardiac arrest": r"(?:cardiac|cardiopulmonary|cardiorespiratory) arrest|asystole",
        "shock": r"shock",
        "sepsis": r"seps(?:is|es)|septic(?:a?emia)?",
        "respiratory failure": r"respiratory failure",
        "respiratory distress": r"respiratory distress|ards",
        "multi-organ failure": r"(?:multi-?|multiple )organ (?:failure|dysfunction)",
        "resuscitation": r"resuscitat(?:e|ed|ion)|cpr",
        "rapid response": r"rapid response(?: team)?|code blue|medical emergency team",
        "ecmo": r"ecmo|extracorporeal membrane oxygenation",
    }
)

_FAMILIES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "symptom": SYMPTOM_KEYWORDS,
        "medication": MEDICATION_KEYWORDS,
        "severity": SEVERITY_KEYWORDS,
        "deterioration": DETERIORATION_KEYWORDS,
    }
)

CLINICAL_KEYWORDS: frozenset[str] = frozenset(
    name for keywords in _FAMILIES.values() for name in keywords
)

# ---------------------------------------------------------------------------------------------
# Negation. Regular-expression fragments; a space matches any run of whitespace. Adapted from
# the NegEx trigger lists (Chapman et al. 2001 and the negex.python trigger file), reduced to the
# phrases that occur in case reports.
# ---------------------------------------------------------------------------------------------

PRE_NEGATIONS = (
    "no", "not", "never", "neither", "nor", "without", "w/o",
    "denies", "denied", "denying", "deny",
    "negative for", "absence of", "absent", "free of", "ruled out", "rules out",
    "no evidence of", "no signs? of", "no symptoms? of", "no history of", "no complaints? of",
)

# A post-posed trigger without a copula ("Sepsis ruled out.") closes its clause: what follows
# it is punctuation, the end, a conjunction, a preposition or an adverb. Followed by anything
# else it is read as the pre-negation it also is ("ruled out sepsis", "absent pulses"), or as
# nothing ("excluded" before its object).
_CLOSES_CLAUSE = (
    r"(?=\s*(?:[.,;:!?)]|$|(?:and|or|but|by|on|in|at|with|after|following|during|per|from"
    r"|because|since|as|\w+ly)\b))"
)

POST_NEGATIONS = (
    # "was negative for X" and "was ruled out for X" are pre-negations of X, not post-negations
    # of what came before.
    (
        r"(?:was|were|is|are|has been|have been|had been) (?:ruled out(?! for)|excluded|absent"
        r"|negative(?! for)|not (?:present|seen|observed|detected|found|noted|evident"
        r"|identified))"
    ),
    "unlikely",
    "(?:did|does|do) not (?:occur|develop|recur)",
    (
        r"(?:ruled out|excluded|absent|not (?:present|seen|observed|detected|found|noted|evident"
        r"|identified))" + _CLOSES_CLAUSE
    ),
)

# Contain a trigger word but negate nothing. Kept short on purpose: each entry is a phrase that
# would otherwise negate a real mention ("did not improve with furosemide": furosemide was
# given; "no response to vasopressors": they were given). "Failed to respond to" and
# "unresponsive to" hold no trigger word, so they need no entry.
PSEUDO_NEGATIONS = (
    "no increase", "no (?:significant )?change", "not only", "not necessarily",
    "without difficulty", "(?:no|without) improvement", "not improve(?:d)?",
    "not respond(?:ed|ing)?", "no (?:clinical |significant )?response",
    "(?:cannot|could not|can not) be (?:ruled out|excluded)",
)

# Words that end a trigger's scope (NegEx; ConText, Harkema et al. 2009, adds the subordinating
# and clause-opening words).
TERMINATIONS = (
    # contrast and exception
    "but", "however", "although", "though", "yet", "still", "nevertheless", "except",
    "aside from", "apart from", "other than",
    # relative pronouns
    "which", "who", "whose",
    # cause, time and other subordinate clauses; "such as" and "as well as" continue a list
    "secondary to", "due to", "because", "since", "while", "after",
    r"(?<!such\W)(?<!well\W)as(?!\W+well\W)",
    # verbs that report a new finding
    "developed", "presented with", "presents with", "presenting with", "complains of",
    "complained of", "complaining of",
    # "and" that opens a new clause: a verb, a subject or a time adverb follows it
    (
        "and (?:was|were|is|are|had|has|have|developed|required|underwent|received|became"
        "|remained|then|later|subsequently|he|she|they|the patient)"
    ),
)

# Semicolon and colon end a scope. A comma ends it only where a clause opens after it (a
# subject or a verb follows), so that "Without antibiotics, she developed septic shock" ends the
# scope at the comma while the commas of "denies chest pain, fever, or cough" keep the whole
# list negated.
CLAUSE_PUNCTUATION = (
    ";", ":",
    (
        r",(?=\s*(?:he|she|they|we|it|there|this|his|her|their|the patient|was|were|is|are|had"
        r"|has|developed|required|underwent|received|became|remained|then|subsequently|later)\b)"
    ),
)

# Words after (pre-) or before (post-negation) a trigger that it can reach. NegEx used five;
# one more lets a trigger reach the third item of a coordinated list of two-word terms.
NEGATION_WINDOW_WORDS = 6

# ---------------------------------------------------------------------------------------------
# Caps and scales of the output columns, as in the reference script.
# ---------------------------------------------------------------------------------------------

SYMPTOM_COUNT_CAP = 20
MEDICATION_COUNT_CAP = 15
SEVERITY_HITS_AT_MAXIMUM = 3  # condition_severity = min(hits / 3, 1)
DETERIORATION_HITS_AT_MAXIMUM = 5  # deterioration_intensity = min(hits / 5, 1)
SENTENCE_COUNT_CAP = 100

FEATURE_COLUMNS = (
    "note_id",
    "symptom_count",
    "medication_count",
    "condition_severity",
    "has_deterioration",
    "deterioration_intensity",
    "sentence_count",
    "summary_symptom_count",
    "summary_treatment_count",
)

# ---------------------------------------------------------------------------------------------
# Compiled patterns. All are written in lower case and matched against lower-cased text, which
# is several times faster than re.IGNORECASE on long alternations.
# ---------------------------------------------------------------------------------------------


def _keyword_body(pattern: str) -> str:
    """A space in a keyword pattern matches whitespace or a hyphen ("life-threatening")."""
    return pattern.replace(" ", r"[\s-]+")


def _keyword_entries() -> tuple[tuple[str, str, re.Pattern[str]], ...]:
    """``(family, keyword, pattern)`` over every family, longer patterns first.

    The order decides which keyword owns a stretch of text where two could start at the same
    word: the longer one ("critical care unit" is intensive care, not also "critical").
    """
    entries = sorted(
        (
            (family, name, pattern)
            for family, keywords in _FAMILIES.items()
            for name, pattern in keywords.items()
        ),
        key=lambda entry: -len(entry[2]),
    )
    return tuple(
        (family, name, re.compile(_keyword_body(pattern))) for family, name, pattern in entries
    )


_KEYWORD_ENTRIES = _keyword_entries()

# One pass over every family, with no capture groups: named groups for ~100 alternatives make
# Python's re about ten times slower. Which keyword matched is looked up afterwards.
_KEYWORDS = re.compile(
    r"\b(?:" + "|".join(entry[2].pattern for entry in _KEYWORD_ENTRIES) + r")\b"
)


@functools.lru_cache(maxsize=4096)
def _keyword_of(matched: str) -> tuple[str, str]:
    """``(family, keyword)`` for text that ``_KEYWORDS`` matched.

    The alternation takes the first alternative that matches, and an earlier alternative that
    matched this whole text would have been taken, so the first full match is the one.
    """
    for family, name, pattern in _KEYWORD_ENTRIES:
        if pattern.fullmatch(matched):
            return family, name
    raise AssertionError(f"no keyword pattern matches {matched!r}")


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
    f"(?P<pseudo>{_phrase_alternatives(PSEUDO_NEGATIONS)})"
    f"|(?P<post>{_phrase_alternatives(POST_NEGATIONS)})"
    f"|(?P<pre>{_phrase_alternatives(PRE_NEGATIONS)})"
    f"|(?P<term>{_phrase_alternatives(TERMINATIONS)})"
    r")\b"
)

_WORD = re.compile(r"\w+")

# What may stand between a trigger and a termination word that belongs to the negated phrase
# ("not yet", "never developed", "not due to", "had not previously developed"): whitespace and
# adverbs.
_ADVERBS_ONLY = re.compile(r"(?:\s+\w+ly)*\s*")


def has_clinical_keyword(sentence: str) -> bool:
    """Whether ``sentence`` mentions any clinical keyword, negated or not."""
    return _KEYWORDS.search(sentence.lower()) is not None


# ---------------------------------------------------------------------------------------------
# Negation scopes and keyword hits
# ---------------------------------------------------------------------------------------------


def _negated_spans(sentence: str) -> list[tuple[int, int, str]]:
    """Character scopes negated in ``sentence`` as ``(start, end, direction)``.

    ``direction`` is "pre" (mentions starting in the span are negated) or "post" (mentions
    ending in the span are negated). A pre-negation's scope runs to the first termination after
    it or the end of its window, whichever comes first; a post-negation's starts after the last
    termination before it or at the start of its window, whichever comes last. A termination
    word joined to the trigger by nothing but adverbs is part of the negated phrase and ends
    nothing ("not yet intubated", "never developed sepsis", "sepsis, which was ruled out").
    """
    pre, post, terms = [], [], []
    for match in _TRIGGERS.finditer(sentence):
        kind = match.lastgroup
        if kind == "pre":
            pre.append(match)
        elif kind == "post":
            post.append(match)
        elif kind in ("term", "punct"):
            terms.append(match)
    if not pre and not post:
        return []

    words = [(m.start(), m.end()) for m in _WORD.finditer(sentence)]
    word_starts = [start for start, _ in words]
    word_ends = [end for _, end in words]
    term_starts = [t.start() for t in terms]
    term_ends = [t.end() for t in terms]

    def joined(term: re.Match[str], start: int, end: int) -> bool:
        return (
            term.lastgroup == "term"
            and _ADVERBS_ONLY.fullmatch(sentence, start, end) is not None
        )

    spans = []
    for trigger in pre:
        first = bisect_left(word_starts, trigger.end())
        last = first + NEGATION_WINDOW_WORDS - 1
        end = word_ends[last] if last < len(words) else len(sentence)
        reached = trigger.end()
        for term in terms[bisect_left(term_starts, trigger.end()) :]:
            if not joined(term, reached, term.start()):
                end = min(end, term.start())
                break
            reached = term.end()
        spans.append((trigger.end(), end, "pre"))
    for trigger in post:
        before = bisect_right(word_ends, trigger.start())
        start = word_starts[max(0, before - NEGATION_WINDOW_WORDS)] if before else trigger.start()
        reached = trigger.start()
        for term in reversed(terms[: bisect_right(term_ends, trigger.start())]):
            if not joined(term, term.end(), reached):
                start = max(start, term.end())
                break
            reached = term.start()
        spans.append((start, trigger.start(), "post"))
    return spans


def _is_negated(start: int, end: int, spans: list[tuple[int, int, str]]) -> bool:
    for span_start, span_end, direction in spans:
        if direction == "pre" and span_start <= start < span_end:
            return True
        if direction == "post" and span_start < end <= span_end:
            return True
    return False


def _affirmed_keywords(sentences: Sequence[str]) -> dict[str, set[str]]:
    """Per family, the keywords mentioned at least once without negation."""
    found: dict[str, set[str]] = {family: set() for family in _FAMILIES}
    for sentence in sentences:
        lowered = sentence.lower()
        spans = None
        for match in _KEYWORDS.finditer(lowered):
            family, name = _keyword_of(match.group())
            if name in found[family]:
                continue
            if spans is None:
                spans = _negated_spans(lowered)
            if not _is_negated(match.start(), match.end(), spans):
                found[family].add(name)
    return found


# ---------------------------------------------------------------------------------------------
# AGBonnet summary JSON
# ---------------------------------------------------------------------------------------------

# Section key -> fields that hold an entry's name, all compared in lower case. The first of
# each is the AGBonnet template's; the others tolerate hand-made files in the same spirit.
SUMMARY_SECTIONS: Mapping[str, tuple[tuple[str, ...], tuple[str, ...]]] = MappingProxyType(
    {
        "symptoms": (("symptoms", "symptom"), ("name of symptom", "name", "symptom")),
        "treatments": (("treatments", "treatment"), ("name", "name of treatment", "treatment")),
    }
)

# Values the AGBonnet extraction writes where it found nothing.
_ABSENT_VALUES = frozenset({"", "none", "null", "nan", "n/a", "na", "unknown"})


def _is_real_value(value: Any) -> bool:
    if value is None or isinstance(value, (Mapping, list)):
        return False
    if isinstance(value, float) and math.isnan(value):
        return False
    return str(value).strip().lower() not in _ABSENT_VALUES


def _entry_has_name(entry: Any, name_fields: tuple[str, ...]) -> bool:
    if isinstance(entry, Mapping):
        fields = {str(key).strip().lower(): value for key, value in entry.items()}
        for field in name_fields:
            if field in fields:
                return _is_real_value(fields[field])
        return False
    return isinstance(entry, str) and _is_real_value(entry)


def _count_named_entries(section: Any, name_fields: tuple[str, ...]) -> float:
    """Entries of a summary section with a real name; NaN if the section has no usable shape."""
    if section is None or (isinstance(section, str) and not _is_real_value(section)):
        return 0.0  # the summary says there are none
    if isinstance(section, (Mapping, str)):
        return float(_entry_has_name(section, name_fields))
    if isinstance(section, list):
        return float(sum(_entry_has_name(entry, name_fields) for entry in section))
    return math.nan


def _parse_summary(summary: Any) -> Mapping[str, Any] | None:
    if isinstance(summary, Mapping):
        parsed: Any = summary
    elif isinstance(summary, str):
        try:
            parsed = json.loads(summary)
        except ValueError:
            return None
    else:
        return None
    if not isinstance(parsed, Mapping):
        return None
    return {str(key).strip().lower(): value for key, value in parsed.items()}


def _summary_counts(summary: Any) -> tuple[float, float]:
    """(symptom count, treatment count) from one summary; NaN where it cannot tell."""
    parsed = _parse_summary(summary)
    counts = []
    for section_keys, name_fields in SUMMARY_SECTIONS.values():
        key = next((k for k in section_keys if parsed is not None and k in parsed), None)
        counts.append(math.nan if key is None else _count_named_entries(parsed[key], name_fields))
    return counts[0], counts[1]


# ---------------------------------------------------------------------------------------------
# Public entry point
# ---------------------------------------------------------------------------------------------


def _as_text(value: Any) -> str:
    """Missing notes (None, NaN) read as empty text, so they get zero counts."""
    if isinstance(value, str):
        return value
    if value is None or (pd.api.types.is_scalar(value) and pd.isna(value)):
        return ""
    return str(value)


def _keyword_counts(sentences_per_note: list[list[str]]) -> list[tuple[int, ...]]:
    """Per note: affirmed symptom, medication, severity and deterioration keywords; sentences."""
    counts = []
    for sentences in sentences_per_note:
        found = _affirmed_keywords(sentences)
        counts.append(
            (
                len(found["symptom"]),
                len(found["medication"]),
                len(found["severity"]),
                len(found["deterioration"]),
                len(sentences),
            )
        )
    return counts


def extract_features(
    texts: Sequence[str],
    summaries: Sequence[str | None] | None = None,
    note_ids: Sequence | None = None,
    progress: bool = False,
    sentences: Sequence[list[str]] | None = None,
    workers: int = 1,
) -> pd.DataFrame:
    """One row of clinical features per text, in input order; columns as ``FEATURE_COLUMNS``.

    ``summaries`` are AGBonnet ``summary`` JSON strings aligned with ``texts`` (None: the
    summary columns are all NaN). ``note_ids`` default to 0..n-1. ``sentences`` are the notes
    already split by ``split_notes`` (else they are split here). ``workers`` processes share the
    work; the result does not depend on how many.
    """
    texts = list(texts)
    n = len(texts)
    if summaries is not None:
        summaries = list(summaries)
        if len(summaries) != n:
            raise ValueError(f"got {len(summaries)} summaries for {n} texts")
    if note_ids is not None:
        note_ids = list(note_ids)
        if len(note_ids) != n:
            raise ValueError(f"got {len(note_ids)} note ids for {n} texts")
    if sentences is None:
        sentences = split_notes(texts, workers)
    elif len(sentences) != n:
        raise ValueError(f"got sentences of {len(sentences)} notes for {n} texts")

    with tqdm(total=n, desc="Clinical features", unit="note", disable=not progress) as bar:
        counts = in_worker_processes(_keyword_counts, list(sentences), workers, bar.update)
    counts = np.array(counts, dtype=np.int64).reshape(n, 5)
    symptoms, medications, severity_hits, deterioration_hits, sentence_counts = counts.T
    summary_symptoms = np.full(n, np.nan)
    summary_treatments = np.full(n, np.nan)
    if summaries is not None:
        for i, summary in enumerate(summaries):
            summary_symptoms[i], summary_treatments[i] = _summary_counts(summary)

    return pd.DataFrame(
        {
            "note_id": note_ids if note_ids is not None else np.arange(n),
            "symptom_count": np.minimum(symptoms, SYMPTOM_COUNT_CAP),
            "medication_count": np.minimum(medications, MEDICATION_COUNT_CAP),
            "condition_severity": np.minimum(severity_hits / SEVERITY_HITS_AT_MAXIMUM, 1.0),
            "has_deterioration": (deterioration_hits > 0).astype(np.int64),
            "deterioration_intensity": np.minimum(
                deterioration_hits / DETERIORATION_HITS_AT_MAXIMUM, 1.0
            ),
            "sentence_count": np.minimum(sentence_counts, SENTENCE_COUNT_CAP),
            "summary_symptom_count": summary_symptoms,
            "summary_treatment_count": summary_treatments,
        },
        columns=list(FEATURE_COLUMNS),
    )
