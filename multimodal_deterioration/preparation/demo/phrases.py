"""The words of the demo notes: plain tables that ``note_writer.py`` draws from.

Bedside concepts in their affirmed, negated and reassuring phrasings; the case-report background
(admissions, history, social history); the explanations of risk-free abnormalities; and the
outcomes a discharge summary states. How often each is drawn is decided in ``note_writer.py``.
Phrasings fill the pronoun slots of ``PRONOUNS`` and the other slots named where they are used.
"""

from __future__ import annotations

from dataclasses import dataclass

# Words that would name the outcome instead of describing the patient; no note charted at or
# before the prediction time contains them (discharge summaries, charted after it, do).
LABEL_LEAK_TERMS = (
    "deteriorat",
    "icu",
    "itu",
    "intensive care",
    "critical care",
    "high dependency",
    "hdu",
    "transferred",
    "rapid response",
    "outreach",
    "medical emergency team",
    "cardiac arrest",
    "died",
    "death",
    "deceased",
    "outcome",
    "label",
    "escalat",
)


@dataclass(frozen=True)
class BedsideConcept:
    """One bedside observation a ward note may record, in several phrasings per polarity.

    Phrasings may use the pronoun slots ({he}, {He}, {his}, {His}, {him}, {himself}), {degree}
    (an adverb for the graded intensity) and {oxygen} (the oxygen device for that intensity).
    """

    symptom: str  # the name used in the structured summary
    affirmed: tuple[str, ...]
    negated: tuple[str, ...]  # NegEx-style pertinent negatives that mention the concept
    reassuring: tuple[str, ...]  # the healthy counterpart, without the concept's keywords
    question: str  # what the doctor asks in the conversation
    complaint: str  # the patient's answer when the concept is present
    reassurance: str  # the patient's answer when it is not


BEDSIDE_CONCEPTS = (
    BedsideConcept(
        symptom="confusion",
        affirmed=(
            "New confusion was noted overnight by the nursing staff.",
            "{He} is {degree} confused and disorientated to time and place, which is new.",
            "The nurses report that {he} has become {degree} confused and agitated since yesterday.",
            "On assessment {he} is newly confused and struggles to follow the conversation.",
        ),
        negated=(
            "There is no confusion.",
            "{He} is not confused or disorientated.",
            "No new confusion or agitation was reported overnight.",
        ),
        reassuring=(
            "{He} is alert and oriented to time, place and person.",
            "{He} is fully orientated and conversing appropriately.",
            "GCS 15, alert and appropriate in conversation.",
        ),
        question="Do you know where you are at the moment?",
        complaint="I'm not sure... is this my house?",
        reassurance="Yes, I'm in the hospital, on the ward.",
    ),
    BedsideConcept(
        symptom="increased oxygen requirement",
        affirmed=(
            "{He} is {degree} breathless and hypoxic, and is now on {oxygen}.",
            "{He} has become hypoxic and supplemental oxygen has been increased to {oxygen}.",
            "Increasing shortness of breath; {he} now needs {oxygen} to keep saturations in range.",
        ),
        negated=(
            "There is no new oxygen requirement.",
            "{He} has not needed any supplemental oxygen.",
            "No increase in oxygen requirement overnight.",
        ),
        reassuring=(
            "{He} is comfortable on room air.",
            "{He} was weaned to room air this morning.",
            "Breathing comfortably on room air at rest.",
        ),
        question="How is your breathing?",
        complaint="It's harder work than yesterday, even with the oxygen.",
        reassurance="Much easier, I don't need the mask any more.",
    ),
    BedsideConcept(
        symptom="reduced urine output",
        affirmed=(
            "{He} is oliguric, with urine output below 0.5 mL/kg/h over the last six hours.",
            "Oliguria was documented on the fluid balance chart.",
            "{He} has become oliguric since the morning despite fluids.",
        ),
        negated=(
            "There is no reduction in urine output.",
            "Urine output has not fallen.",
            "No concerns about urine output on the fluid balance chart.",
        ),
        reassuring=(
            "{He} is passing good volumes of urine.",
            "Fluid balance is satisfactory and {he} is passing water normally.",
        ),
        question="Have you been passing water?",
        complaint="Hardly at all since this morning.",
        reassurance="Yes, plenty, I've been up to the toilet a few times.",
    ),
    BedsideConcept(
        symptom="change in behaviour noticed by family",
        affirmed=(
            "{His} family are worried that {he} is lethargic and not {himself} today.",
            "{His} daughter is concerned that {he} is more lethargic and withdrawn than usual.",
            "Relatives raised concern that {he} has been {degree} confused in {his} behaviour.",
        ),
        negated=(
            "The family have no concerns at present.",
            "No concerns were raised by relatives at visiting.",
        ),
        reassuring=(
            "{His} family are pleased with {his} progress.",
            "{His} relatives feel {he} is back to {his} usual self.",
        ),
        question="Has your family noticed anything different?",
        complaint="My daughter says I'm not myself.",
        reassurance="They say I'm looking more like my old self.",
    ),
    BedsideConcept(
        symptom="unwell appearance",
        affirmed=(
            "{He} looks {degree} unwell and diaphoretic at the bedside.",
            "{He} appears pale, diaphoretic and {degree} unwell.",
            "The nurse looking after {him} feels {he} looks worse, with new weakness since yesterday.",
            "On review {he} is ill-appearing and {degree} lethargic.",
        ),
        negated=(
            "{He} does not look unwell.",
            "Not pale or clammy on examination.",
        ),
        reassuring=(
            "{He} looks well and is sitting out in the chair.",
            "{He} appears comfortable and in good spirits.",
        ),
        question="How are you feeling in yourself?",
        complaint="Awful, I feel hot and cold and really weak.",
        reassurance="A lot brighter, thank you.",
    ),
    BedsideConcept(
        symptom="poor oral intake",
        affirmed=(
            "{He} has poor appetite and oral intake has been {degree} reduced.",
            "{He} has been unable to tolerate diet because of nausea.",
            "Nausea and vomiting with poor oral intake over the last 24 hours.",
        ),
        negated=(
            "No nausea or vomiting, and no difficulty eating.",
            "{He} denies any problem with eating or drinking.",
        ),
        reassuring=(
            "{He} is tolerating diet and fluids.",
            "Eating and drinking well.",
            "{He} finished {his} breakfast this morning.",
        ),
        question="Have you managed anything to eat?",
        complaint="I can't face any food, it makes me feel sick.",
        reassurance="Yes, I had all of my breakfast.",
    ),
    BedsideConcept(
        symptom="drowsiness",
        affirmed=(
            "{He} is {degree} drowsy and difficult to rouse at times.",
            "Generalised weakness: {he} has been unable to get out of bed today.",
            "{He} is increasingly lethargic and sleeping most of the day.",
        ),
        negated=(
            "{He} is not drowsy.",
            "No excessive sleepiness reported by the nurses.",
        ),
        reassuring=(
            "{He} is ambulating independently on the ward.",
            "Mobilising with the physiotherapists this morning.",
            "{He} walked to the bathroom unaided.",
        ),
        question="Have you been able to get up and about?",
        complaint="No, I'm too tired, I just want to sleep.",
        reassurance="Yes, I walked down the corridor with the physio.",
    ),
    BedsideConcept(
        symptom="cool peripheries",
        affirmed=(
            "{His} peripheries are cool, {degree} mottled and cyanotic.",
            "Capillary refill is prolonged at 4 seconds and {his} fingers look cyanotic.",
        ),
        negated=(
            "No mottling of the skin.",
            "Capillary refill is not prolonged.",
        ),
        reassuring=(
            "Peripheries are warm and well perfused.",
            "Warm hands with brisk capillary refill.",
        ),
        question="Are your hands and feet cold?",
        complaint="Freezing, I can't get warm.",
        reassurance="No, they feel fine.",
    ),
)
INTENSITIES = ("mild", "moderate", "severe")
DEGREE_WORDS = {
    "mild": ("slightly", "mildly"),
    "moderate": ("noticeably", "clearly"),
    "severe": ("markedly", "very"),
}
OXYGEN_DEVICES = {
    "mild": ("2 L/min via nasal cannula",),
    "moderate": ("4 L/min via nasal cannula", "a 35% Venturi mask"),
    "severe": ("a 60% Venturi mask", "15 L/min via a non-rebreather mask"),
}

# What the note says about an explained abnormality. Each names the abnormal vitals with a
# clinical keyword, so the reference text strategy keeps the sentence.
EXPLANATIONS = (
    "{His} tachycardia and tachypnoea since this morning are explained by pain from {his} {site}, "
    "which is being treated with analgesia.",
    "{He} has been very anxious today; the tachycardia and raised respiratory rate are thought "
    "to be due to anxiety.",
    "The tachycardia and tachypnoea are attributed to {his} regular salbutamol nebulisers.",
    "{He} had a febrile reaction to a blood transfusion this morning, which explains the fever "
    "and tachycardia.",
    "The nursing team attribute today's tachycardia and low blood pressure to {his} "
    "antihypertensives being restarted; {he} feels well in {himself}.",
)
PAIN_SITES = ("hip", "back", "abdomen", "leg")

UNRELATED_FINDINGS = (
    "{He} denies chest pain.",
    "No calf swelling or tenderness.",
    "Denies abdominal pain.",
    "No rash.",
    "No headache or neck stiffness.",
    "{He} reports mild constipation.",
    "{He} had a headache overnight that settled with paracetamol.",
    "{He} complains of some lower back discomfort from lying in bed.",
    "The cannula site is clean.",
    "{He} slept poorly because of noise on the ward.",
)


@dataclass(frozen=True)
class Admission:
    reason: str
    symptom: str  # the presenting complaint
    treatment: str
    dose: str
    frequency: str


ADMISSIONS = (
    Admission(
        "community-acquired pneumonia",
        "productive cough",
        "intravenous co-amoxiclav",
        "1.2 g",
        "three times daily",
    ),
    Admission(
        "a urinary tract infection", "dysuria", "intravenous gentamicin", "5 mg/kg", "once daily"
    ),
    Admission(
        "cellulitis of the left leg",
        "leg redness and swelling",
        "intravenous flucloxacillin",
        "2 g",
        "four times daily",
    ),
    Admission(
        "an exacerbation of COPD", "breathlessness", "oral prednisolone", "40 mg", "once daily"
    ),
    Admission(
        "decompensated heart failure",
        "ankle swelling",
        "intravenous furosemide",
        "40 mg",
        "twice daily",
    ),
    Admission(
        "a fractured neck of femur after a fall",
        "hip pain",
        "regular oral morphine",
        "5 mg",
        "four times daily",
    ),
    Admission(
        "acute cholecystitis",
        "right upper quadrant pain",
        "intravenous piperacillin-tazobactam",
        "4.5 g",
        "three times daily",
    ),
    Admission(
        "dehydration after several days of diarrhoea",
        "diarrhoea",
        "intravenous fluids",
        "1 L",
        "every 8 hours",
    ),
)
# (condition, regular medication or None)
HISTORY_CONDITIONS = (
    ("hypertension", "amlodipine 5 mg once daily"),
    ("type 2 diabetes", "metformin 500 mg twice daily"),
    ("atrial fibrillation", "apixaban 5 mg twice daily"),
    ("hypothyroidism", "levothyroxine 75 micrograms daily"),
    ("osteoarthritis", "paracetamol 1 g four times daily"),
    ("chronic kidney disease stage 3", None),
    ("hypercholesterolaemia", "atorvastatin 20 mg at night"),
    ("a previous stroke", "clopidogrel 75 mg daily"),
    ("gastro-oesophageal reflux disease", "omeprazole 20 mg daily"),
    ("depression", "sertraline 50 mg daily"),
    ("asthma", "a salbutamol inhaler as required"),
)
INTRO_PHRASINGS = (
    "A {age}-year-old {person} was admitted to the medical ward with {reason}.",
    (
        "A {age}-year-old {person} presented to the emergency department with {symptom} and "
        "was admitted with {reason}."
    ),
    "We describe a {age}-year-old {person} admitted with {reason}.",
)
HISTORY_PHRASINGS = (
    "{His} past medical history includes {conditions}.",
    "{He} has a background of {conditions}.",
    "{He} is known to have {conditions}.",
)
MEDICATION_PHRASINGS = (
    "{His} regular medications are {medications}.",
    "{He} takes {medications}.",
    "Medications on admission included {medications}.",
)
NO_MEDICATION_PHRASINGS = (
    "{He} takes no regular medications.",
    "{He} is on no regular medication.",
)
LIVING_SITUATIONS = ("alone", "with {his} partner", "with {his} daughter", "in a residential home")
FUNCTION_PHRASES = (
    "is independent with activities of daily living",
    "walks with a stick outdoors",
    "has carers twice a day",
    "still drives and does {his} own shopping",
)
# (smoking status for the summary, as written in the note)
SMOKING_STATUSES = (
    ("lifelong non-smoker", "a lifelong non-smoker"),
    ("ex-smoker", "an ex-smoker"),
    ("current smoker", "a current smoker"),
)
ALCOHOL_PHRASES = (
    "drinks alcohol occasionally",
    "does not drink alcohol",
    "drinks around 10 units of alcohol a week",
)
TREATMENT_PHRASINGS = (
    "{He} was started on {treatment}.",
    "Treatment with {treatment} was commenced on admission.",
    "{He} has been receiving {treatment} since admission.",
)
# The first sentence of a progress note: short, because every word of every note is embedded.
PROGRESS_OPENINGS = (
    "Ward round review.",
    "Medical review.",
    "Nursing review.",
    "Reviewed on the ward.",
    "Seen by the medical team.",
)
# The discharge summary's opening, then one sentence that states the outcome in plain words.
DISCHARGE_OPENINGS = (
    "{age}-year-old {person} admitted with {reason}.",
    "This {age}-year-old {person} was admitted with {reason}.",
    "Summary of an admission with {reason}.",
)
# (the outcome as the structured summary's discharge reason, the sentence in the note). Every
# sentence for a deteriorating patient contains a LABEL_LEAK_TERMS word; none for a recovering
# patient does, and each of those says the patient recovered or went home.
DETERIORATION_OUTCOMES = (
    (
        "transferred to intensive care",
        "{He} deteriorated on the ward and was transferred to the intensive care unit on day "
        "{day}.",
    ),
    (
        "transferred to intensive care",
        "After a rapid response call for clinical deterioration {he} was transferred to ICU.",
    ),
    (
        "cardiac arrest",
        "{He} had a cardiac arrest on the ward on day {day} and was transferred to critical care "
        "after resuscitation.",
    ),
    (
        "died",
        "{His} condition deteriorated despite treatment and {he} died on day {day} of the "
        "admission.",
    ),
    (
        "died",
        "{He} had a cardiac arrest on day {day}; resuscitation was unsuccessful and {he} died.",
    ),
)
RECOVERY_OUTCOMES = (
    ("discharged home", "{He} recovered uneventfully and was discharged home on day {day}."),
    (
        "discharged home",
        "{His} symptoms settled with treatment and {he} went home on day {day} after an "
        "uneventful recovery.",
    ),
    ("discharged home", "{He} made a good recovery on the ward and was discharged home."),
    (
        "discharged home",
        "{He} improved steadily without complications and was discharged home on day {day}.",
    ),
)
PLAN_ITEMS = (
    "continue current treatment",
    "repeat bloods in the morning",
    "physiotherapy review",
    "encourage oral fluids",
    "venous thromboembolism prophylaxis",
    "medication review with the pharmacist",
    "update the family after the ward round",
    "four-hourly observations",
)
PRONOUNS = {
    "Male": {
        "he": "he",
        "He": "He",
        "his": "his",
        "His": "His",
        "him": "him",
        "himself": "himself",
        "person": "man",
    },
    "Female": {
        "he": "she",
        "He": "She",
        "his": "her",
        "His": "Her",
        "him": "her",
        "himself": "herself",
        "person": "woman",
    },
}

# The opening line of each note's doctor/patient conversation.
ADMISSION_GREETING = "Doctor: Hello, I am one of the ward doctors. How are you feeling?"
PROGRESS_GREETING = "Doctor: How have you been since I last saw you?"
DISCHARGE_CONVERSATION = "Doctor: This summary of the admission has been sent to the GP."
