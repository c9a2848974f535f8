# Makes people-places-train.jsonl and people-places-eval.jsonl: sentences with people (PER) and places (LOC) in
# BIO tags, the label scheme of the tiny-bert-tokcls fixture. Each sentence fills a template with names drawn from
# known lists. Training and eval share no template, no first or last name and no place, so the eval F1 measures
# what the encoder knows of names and places, not what the head memorised.
#   python3 make-people-places.py
import json, random

FIRST = ["John", "Mary", "Ahmed", "Olga", "Pierre", "Yuki", "Carlos", "Fatima", "Hans", "Priya", "Liam", "Sofia",
         "Chen", "Amara", "Dmitri", "Elena", "Kofi", "Ingrid", "Rafael", "Mei",
         "James", "Anna", "Omar", "Katarina", "Luis", "Aiko", "Marco", "Leila", "Sven", "Nadia", "Ethan", "Clara",
         "Wei", "Zainab", "Igor", "Lucia", "Kwame", "Astrid", "Diego", "Hana"]
LAST = ["Smith", "Garcia", "Müller", "Ivanova", "Dubois", "Tanaka", "Okafor", "Rossi", "Kowalski", "Nguyen",
        "Johnson", "Fernandez", "Schmidt", "Petrova", "Martin", "Sato", "Mensah", "Bianchi", "Nowak", "Tran"]
PLACES = ["Paris", "Berlin", "Tokyo", "Cairo", "Lima", "Oslo", "Nairobi", "Madrid", "New York", "Buenos Aires",
          "Mumbai", "Toronto", "Hanoi", "Warsaw", "Sydney", "Rio de Janeiro",
          "London", "Rome", "Beijing", "Lagos", "Quito", "Helsinki", "Accra", "Lisbon", "San Francisco",
          "Mexico City", "Delhi", "Vancouver", "Bangkok", "Prague", "Melbourne", "Cape Town"]

TRAIN_TEMPLATES = [
    "{PER} flew from {LOC} to {LOC} on Monday .",
    "{PER} lives in {LOC} with her brother .",
    "Yesterday {PER} met {PER} in {LOC} .",
    "The conference in {LOC} was opened by {PER} .",
    "{PER} said the talks would continue next week .",
    "Flights between {LOC} and {LOC} were cancelled because of the storm .",
    "According to {PER} , prices in {LOC} rose sharply .",
    "She moved to {LOC} after the war .",
    "{PER} and {PER} signed the agreement .",
    "The company opened a new office in {LOC} .",
    "Police in {LOC} are looking for {PER} .",
    "Nobody expected the results to be so good .",
    "{PER} , who was born in {LOC} , won the prize .",
    "The museum in {LOC} reopened on Friday .",
    "Shares fell after {PER} resigned .",
    "The weather was cold and wet all week .",
]
EVAL_TEMPLATES = [
    "{PER} arrived in {LOC} late last night .",
    "A spokesman for {PER} declined to comment .",
    "Trade between {LOC} and {LOC} grew last year .",
    "{PER} will visit {LOC} and {LOC} next month .",
    "The minister thanked {PER} for his work .",
    "Heavy rain flooded the streets of {LOC} .",
    "The report was written by {PER} and {PER} .",
    "Most of the shops were closed on Sunday .",
]


def split(names):
    half = len(names) // 2
    return names[:half], names[half:]


def person(rng, first, last):
    return rng.choice(first) if rng.random() < 0.3 else rng.choice(first) + " " + rng.choice(last)


def fill(template, rng, first, last, places):
    tokens, tags = [], []
    for part in template.split(" "):
        if part in ("{PER}", "{LOC}"):
            words = (person(rng, first, last) if part == "{PER}" else rng.choice(places)).split(" ")
            kind = part[1:4]
            tokens += words
            tags += ["B-" + kind] + ["I-" + kind] * (len(words) - 1)
        else:
            tokens.append(part)
            tags.append("O")
    return {"tokens": tokens, "tags": tags}


def write(path, templates, count, rng, first, last, places):
    with open(path, "w", encoding="utf-8") as f:
        for i in range(count):
            f.write(json.dumps(fill(templates[i % len(templates)], rng, first, last, places), ensure_ascii=False) + "\n")


rng = random.Random(22)
(first_train, first_eval), (last_train, last_eval), (places_train, places_eval) = split(FIRST), split(LAST), split(PLACES)
write("people-places-train.jsonl", TRAIN_TEMPLATES, 320, rng, first_train, last_train, places_train)
write("people-places-eval.jsonl", EVAL_TEMPLATES, 120, rng, first_eval, last_eval, places_eval)
