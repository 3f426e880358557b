"""Realistic synthetic instruction corpora for the benchmarks, with planted exact and near-duplicates.

Words follow a Zipf law over a vocabulary that starts with the common words of biomedical instructions
and continues with made-up terms, so token frequencies look like real text (a few very common words,
a long tail); instruction lengths are drawn between 5 and 40 words. A share of the instructions are
exact copies of earlier ones and another share are light edits (1-3 words inserted, deleted or
replaced), the two kinds of duplicate Self-Instruct's filter is there to catch.
"""

import itertools
import json
import re
import random

COMMON = (
    "the of and to a in for with patient is on from that by this as or be are an what following "
    "list extract identify summarize explain describe write provide note report clinical treatment "
    "symptoms diagnosis medication dose drug disease blood risk history given based text study "
    "results test care management effects side adverse hospital discharge lab level heart pain "
    "infection chronic acute therapy trial outcome plan signs mg daily children adults cancer "
    "diabetes hypertension kidney liver lung brain cell gene protein"
).split()
SYLLABLES = "ba ce di fo gu ha ki lo me nu pa ri so te vu xa zy qu bre cla dro fle gri pho thi ste".split()


def vocabulary(size: int = 12_000) -> list[str]:
    terms = ("".join(parts) for n in (2, 3, 4) for parts in itertools.product(SYLLABLES, repeat=n))
    return COMMON + list(itertools.islice(terms, size - len(COMMON)))


def instructions(count: int, seed: int = 0, exact_share: float = 0.01, near_share: float = 0.03,
                 lengths: tuple[int, int] = (5, 40)) -> list[str]:
    rng = random.Random(seed)
    words = vocabulary()
    weights = [1 / (rank + 1) ** 1.05 for rank in range(len(words))]
    corpus: list[str] = []
    fresh_batch: list[str] = []
    for _ in range(count):
        roll = rng.random()
        if corpus and roll < exact_share:
            corpus.append(rng.choice(corpus))
            continue
        if corpus and roll < exact_share + near_share:
            corpus.append(_edited(rng.choice(corpus), rng, COMMON))
            continue
        if not fresh_batch:
            fresh_batch = rng.choices(words, weights=weights, k=40_000)
        length = rng.randint(*lengths)
        sentence, fresh_batch = fresh_batch[:length], fresh_batch[length:]
        corpus.append(" ".join(sentence).capitalize() + ".")
    return corpus


def write_records(path, count: int, seed: int = 0, output_words: int = 80, make=None) -> None:
    """A JSON array of records in the upstream shape; inputs on about 60% of them.

    Instructions come from `make(count, seed)`: the Zipf corpus by default, or `templated_instructions`.
    """
    rng = random.Random(seed + 1)
    words = vocabulary(2_000)
    with open(path, "w", encoding="utf-8") as f:
        f.write("[\n")
        for index, instruction in enumerate((make or instructions)(count, seed)):
            record = {
                "instruction": instruction,
                "input": " ".join(rng.choices(words, k=rng.randint(10, 40))) if rng.random() < 0.6 else "",
                "output": " ".join(rng.choices(words, k=rng.randint(max(1, output_words // 2), max(1, output_words * 3 // 2)))),
            }
            f.write(("," if index else "") + json.dumps(record, ensure_ascii=False) + "\n")
        f.write("]\n")


# ---------------------------------------------------------------------------------------------------
# Templated corpus: short clinical instructions from a few hundred templates, the shape GPT-4's
# Self-Instruct output takes (frequent task words in every prefix), unlike the Zipf corpus above.
# ---------------------------------------------------------------------------------------------------

TASKS = (
    "{verb} the {doc} of a {age} patient with {cond}",
    "{verb} the {entity} in this {doc}",
    "Extract the {entity} from the {doc}",
    "List the {entity} of {cond}",
    "Find every {entity} in the {doc} on {cond}",
    "What is the treatment for {cond} in {pop}?",
    "What are the side effects of {drug}?",
    "How does {drug} work in {cond}?",
    "Why is {drug} avoided in {pop}?",
    "Is {drug} safe for {pop}?",
    "Explain {cond} to {audience}",
    "Describe the {topic} for {cond}",
    "Define {cond} for {audience}",
    "Write a {doc} for {cond}",
    "Summarize the {doc} on {cond}",
    "Draft a note to {audience} about {topic}",
    "Rewrite the {doc} for {audience}",
    "Translate the {doc} for {audience}",
    "Simplify this {doc} about {cond}",
    "Suggest {topic} for {pop} with {cond}",
    "Create a {topic} handout for {audience}",
    "Classify the {doc} as {label} or {label2}",
    "Rate the severity of {cond} in this {doc}",
    "Calculate the {measure} for a {age} patient",
    "Estimate the {measure} on {drug}",
    "Triage this {doc} about {cond}",
    "Compare {drug} with {drug2}",
    "Recommend a {topic} plan for {cond}",
    "Interpret the {measure} in a {age} patient",
    "Give {count} tips on {topic} to {audience}",
    "Diagnose the {age} patient with {entity} in the {doc}",
    "Outline {topic} after {cond}",
    "Identify {cond} risk in {pop}",
    "Name the first-line drug for {cond}",
    "Convert {drug} to a {measure}",
    "Answer the question from {audience} about {drug}",
    "Check the {doc} for {entity}",
    "Match each {entity} to {cond}",
    "Tell {audience} when to stop {drug}",
    "Prepare {count} questions on {cond} for {audience}",
)
VERBS = "Summarize Review Analyze Assess Interpret Evaluate Examine Condense Annotate Critique".split()
# Lead-ins and endings GPT-4 puts around a task; with TASKS they make a few hundred templates.
CONTEXTS = (" for a {age} patient with {cond}", " in {pop}", " on {drug}", " for {audience}",
            " in a {age} patient on {drug}", " with {cond}", " given {entity}")
SEVERITIES = ("mild", "severe", "newly diagnosed", "poorly controlled", "recurrent", "suspected", "advanced",
              "early", "chronic", "acute", "refractory", "uncomplicated", "complicated", "stable", "worsening")
OPENERS = ("",) * 12 + ("Please", "As a clinician,", "Based on the chart,", "For a teaching round,", "Briefly,",
           "In a busy clinic,", "Using current guidelines,", "From the nursing perspective,", "Step by step,")
CLOSERS = ("",) * 12 + ("and cite the key evidence", "in a short paragraph", "using bullet points",
           "for a handout", "and note any red flags", "in under 100 words", "with a brief rationale",
           "and mention monitoring", "for the care team")
SLOTS = {
    "doc": "discharge summary|radiology report|progress note|operative note|pathology report|consult note|"
           "triage note|nursing note|medication list|lab report|clinical trial abstract|case report|referral letter|"
           "emergency department note|echocardiogram report|MRI report|CT report|admission note|clinic letter",
    "age": "newborn|toddler|school-age|teenage|young adult|middle-aged|elderly|pregnant|postpartum|frail",
    "cond": "hypertension|type 2 diabetes|sepsis|community-acquired pneumonia|heart failure|atrial fibrillation|"
            "chronic kidney disease|asthma|COPD|migraine|major depression|stroke|myocardial infarction|"
            "pulmonary embolism|deep vein thrombosis|cirrhosis|hepatitis C|HIV|tuberculosis|lupus|"
            "rheumatoid arthritis|osteoporosis|hypothyroidism|Graves disease|Crohn disease|ulcerative colitis|"
            "pancreatitis|appendicitis|cellulitis|urinary tract infection|pyelonephritis|anemia|sickle cell disease|"
            "leukemia|lymphoma|breast cancer|lung cancer|colon cancer|prostate cancer|melanoma|psoriasis|eczema|"
            "epilepsy|Parkinson disease|Alzheimer disease|multiple sclerosis|gout|obesity|sleep apnea|glaucoma|"
            "otitis media|bronchiolitis|preeclampsia|gestational diabetes|endometriosis|meningitis|Lyme disease|"
            "influenza|COVID-19|anaphylaxis|hyperkalemia|hyponatremia|diabetic ketoacidosis|aortic stenosis",
    "drug": "metformin|lisinopril|amlodipine|atorvastatin|warfarin|apixaban|insulin glargine|albuterol|"
            "prednisone|amoxicillin|azithromycin|ceftriaxone|vancomycin|piperacillin-tazobactam|furosemide|"
            "spironolactone|metoprolol|carvedilol|digoxin|levothyroxine|methotrexate|adalimumab|sertraline|"
            "fluoxetine|lithium|valproate|levetiracetam|gabapentin|morphine|oxycodone|acetaminophen|ibuprofen|"
            "omeprazole|pantoprazole|ondansetron|heparin|enoxaparin|clopidogrel|aspirin|tamoxifen|"
            "pembrolizumab|hydroxychloroquine|allopurinol|colchicine|empagliflozin|semaglutide|sacubitril-valsartan",
    "pop": "children|adolescents|older adults|pregnant women|athletes|nursing home residents|smokers|"
           "patients on dialysis|transplant recipients|veterans|infants|women over 50",
    "audience": "a worried parent|a newly diagnosed patient|a medical student|a caregiver|a school nurse|"
                "an 8-year-old|a pharmacist|a family member|a community health worker|a teenager",
    "topic": "warning signs|diet changes|exercise|follow-up visits|medication adherence|home monitoring|"
             "when to call 911|vaccination|smoking cessation|sleep hygiene|fall prevention|pain control",
    "entity": "medications|dosages|symptoms|diagnoses|allergies|lab values|procedures|risk factors|"
              "vital signs|adverse events|family history items|imaging findings",
    "label": "urgent|routine|benign|malignant|acute|chronic|mild|severe|normal|abnormal",
    "measure": "body mass index|creatinine clearance|CHA2DS2-VASc score|Wells score|anion gap|"
               "corrected calcium|insulin dose|infusion rate|daily fluid requirement|QTc interval",
    "dose": "5 mg daily|10 mg twice daily|500 mg every 8 hours|1 g IV daily|20 units at bedtime|"
            "40 mg weekly|2.5 mg every 12 hours|100 mg nightly",
    "count": "two|three|four|five|ten",
}
SLOT_VALUES = {name: values.split("|") for name, values in SLOTS.items()}
_SLOT = re.compile(r"\{(\w+?)2?\}")


def templated_instructions(count: int, seed: int = 0, exact_share: float = 0.01, near_share: float = 0.03) -> list[str]:
    """`count` instructions filled from TASKS and SLOTS, with exact copies and 1-3 word edits planted."""
    rng = random.Random(seed)
    corpus: list[str] = []
    filler = [word for values in SLOT_VALUES.values() for value in values for word in value.split()]
    for _ in range(count):
        roll = rng.random()
        if corpus and roll < exact_share:
            corpus.append(rng.choice(corpus))
        elif corpus and roll < exact_share + near_share:
            corpus.append(_edited(rng.choice(corpus), rng, filler))
        else:
            task = rng.choice(TASKS) + (rng.choice(CONTEXTS) if rng.random() < 0.8 else "")
            template = " ".join(filter(None, (rng.choice(OPENERS), task, rng.choice(CLOSERS))))
            template = template.replace("{verb}", rng.choice(VERBS))
            corpus.append(_SLOT.sub(lambda match: _fill(match.group(1), rng), template) + ".")
    return corpus


CIRCUMSTANCES = (
    "at discharge", "after surgery", "during pregnancy", "in the ICU", "at home", "before travel",
    "in rural clinics", "after a fall", "on night shift", "in the first week", "over the winter",
    "during a heat wave", "after chemotherapy", "while fasting", "in long-term care", "at school",
    "after a transplant", "during rehabilitation", "in the emergency department", "on a telehealth visit",
    "with limited English", "with kidney impairment", "with a feeding tube", "on hospice", "after a stroke",
)


def _fill(slot: str, rng: random.Random) -> str:
    """A slot's value; conditions get a severity, drugs a dose, other slots often a circumstance."""
    value = rng.choice(SLOT_VALUES[slot])
    if slot == "cond":
        return f"{rng.choice(SEVERITIES)} {value}"
    if slot == "drug":
        return f"{value} {rng.choice(SLOT_VALUES['dose'])}" if rng.random() < 0.5 else value
    if slot in ("audience", "topic", "pop", "entity", "doc") and rng.random() < 0.7:
        return f"{value} {rng.choice(CIRCUMSTANCES)}"
    return value


def _edited(text: str, rng: random.Random, words: list[str]) -> str:
    """`text` with 1-3 words deleted, inserted (from `words`) or replaced: a light edit."""
    edited = text.split()
    for _ in range(rng.randint(1, 3)):
        kind = rng.random()
        if kind < 0.33 and len(edited) > 2:
            edited.pop(rng.randrange(len(edited)))
        elif kind < 0.66:
            edited.insert(rng.randrange(len(edited) + 1), rng.choice(words))
        else:
            edited[rng.randrange(len(edited))] = rng.choice(words)
    return " ".join(edited)


def tiny_instructions(count: int, seed: int = 3) -> list[str]:
    """Short instructions of three random words and a number: rarely near-duplicates of each other."""
    rng = random.Random(seed)
    words = vocabulary()
    return [f"Explain {' '.join(rng.sample(words, 3))} {index}" for index in range(count)]
