"""Datasets dlgrade makes itself, for what exists only online.

``translation_pairs`` stands in for TED pt→en offline: simple Portuguese sentences with their English
translations (gender and number agreement, negation, adjectives after the noun in Portuguese and before it
in English, time adverbs), so a translation model has real structure to learn.

``noisy_cubic`` stands in for the notes' ``polydata.csv`` (chapter 14), which is not published: points of a
cubic with Gaussian noise, for polynomial regression.
"""
from __future__ import annotations

import itertools
import random

import numpy as np

# (Portuguese, English, gender, number)
SUBJECTS = [("o menino", "the boy", "m", "sg"), ("a menina", "the girl", "f", "sg"),
            ("o médico", "the doctor", "m", "sg"), ("a professora", "the teacher", "f", "sg"),
            ("os alunos", "the students", "m", "pl"), ("as mulheres", "the women", "f", "pl"),
            ("os homens", "the men", "m", "pl"), ("as crianças", "the children", "f", "pl")]
# (Portuguese singular, Portuguese plural, English third person singular, English base form)
VERBS = [("vê", "veem", "sees", "see"), ("compra", "compram", "buys", "buy"), ("lê", "leem", "reads", "read"),
         ("procura", "procuram", "looks for", "look for"), ("quer", "querem", "wants", "want"),
         ("encontra", "encontram", "finds", "find")]
OBJECTS = [("livro", "book", "m", "sg"), ("carta", "letter", "f", "sg"), ("livros", "books", "m", "pl"),
           ("cartas", "letters", "f", "pl"), ("carro", "car", "m", "sg"), ("casa", "house", "f", "sg"),
           ("jornal", "newspaper", "m", "sg"), ("maçãs", "apples", "f", "pl"), ("bolos", "cakes", "m", "pl"),
           ("bicicleta", "bicycle", "f", "sg")]
ARTICLES = {("m", "sg"): "o", ("f", "sg"): "a", ("m", "pl"): "os", ("f", "pl"): "as"}
# Portuguese forms by (gender, number), English
ADJECTIVES = [None,
              ({("m", "sg"): "novo", ("f", "sg"): "nova", ("m", "pl"): "novos", ("f", "pl"): "novas"}, "new"),
              ({("m", "sg"): "velho", ("f", "sg"): "velha", ("m", "pl"): "velhos", ("f", "pl"): "velhas"}, "old"),
              ({("m", "sg"): "vermelho", ("f", "sg"): "vermelha", ("m", "pl"): "vermelhos", ("f", "pl"): "vermelhas"}, "red"),
              ({("m", "sg"): "pequeno", ("f", "sg"): "pequena", ("m", "pl"): "pequenos", ("f", "pl"): "pequenas"}, "small"),
              ({("m", "sg"): "grande", ("f", "sg"): "grande", ("m", "pl"): "grandes", ("f", "pl"): "grandes"}, "big"),
              ({("m", "sg"): "bonito", ("f", "sg"): "bonita", ("m", "pl"): "bonitos", ("f", "pl"): "bonitas"}, "beautiful")]
TIMES = [("", ""), ("hoje", "today"), ("agora", "now"), ("todos os dias", "every day")]


def _pair(subject, verb, negated, obj, adjective, time) -> tuple[str, str]:
    pt_subject, en_subject, _, subject_number = subject
    pt_singular, pt_plural, en_third, en_base = verb
    noun, en_noun, gender, number = obj
    pt_verb = pt_singular if subject_number == "sg" else pt_plural
    en_verb = (("does not " if subject_number == "sg" else "do not ") + en_base) if negated else \
        (en_third if subject_number == "sg" else en_base)
    pt_object = f"{ARTICLES[gender, number]} {noun}" + (f" {adjective[0][gender, number]}" if adjective else "")
    en_object = "the " + (f"{adjective[1]} " if adjective else "") + en_noun
    pt = " ".join(w for w in (pt_subject, "não" if negated else "", pt_verb, pt_object, time[0]) if w)
    en = " ".join(w for w in (en_subject, en_verb, en_object, time[1]) if w)
    return pt[0].upper() + pt[1:] + ".", en[0].upper() + en[1:] + "."


def translation_pairs(*, count: int, seed: int = 0) -> tuple[list[str], list[str]]:
    """``count`` distinct (Portuguese, English) sentence pairs, the same for the same arguments."""
    combinations = list(itertools.product(SUBJECTS, VERBS, (False, True), OBJECTS, ADJECTIVES, TIMES))
    if count > len(combinations):
        raise ValueError(f"at most {len(combinations)} distinct pairs")
    random.Random(seed).shuffle(combinations)
    pairs = [_pair(*c) for c in combinations[:count]]
    return [p for p, _ in pairs], [e for _, e in pairs]


# The noisy cubic behind ``polynomial_generated``: y = CUBIC[0] + CUBIC[1] x + CUBIC[2] x² + CUBIC[3] x³ + noise.
CUBIC = (1.0, -2.0, -0.5, 0.4)
CUBIC_X_RANGE = (-4.0, 4.0)
CUBIC_NOISE = 1.5


def noisy_cubic(*, count: int, seed: int = 14) -> tuple[np.ndarray, np.ndarray]:
    """``count`` points (x, y) of a cubic with Gaussian noise (stand-in for the notes' polydata.csv): x uniform
    in CUBIC_X_RANGE, y = cubic(x) + N(0, CUBIC_NOISE²), both float32, (count,) each; the same for the same
    arguments (numpy's PCG64 generator)."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(*CUBIC_X_RANGE, size=count)
    y = sum(c * x ** power for power, c in enumerate(CUBIC)) + rng.normal(0.0, CUBIC_NOISE, size=count)
    return x.astype(np.float32), y.astype(np.float32)
