#!/usr/bin/python3
"""TF-IDF + logistic regression on the fortune classification split, for assets/README.md.

A report-time baseline (Debian's python3-sklearn), not a runtime dependency of cppformers:

    /usr/bin/python3 scripts/fortune_tfidf_baseline.py WORK/data [PREDICTIONS]

reads WORK/data/train.jsonl and test.jsonl (written by `cppformers dataset` in
scripts/make_default_models), fits TfidfVectorizer(sublinear_tf=True) + LogisticRegression on the
train split only, and prints one JSON object with macro-F1, accuracy and per-class F1 on the test
split. With PREDICTIONS (the output of `cppformers run text-classification` on test.jsonl's
texts, one JSON line per text), it also scores those with the same sklearn metrics, an
independent check of the F1 that `cppformers train` reports.

The regularisation strength C and the class weighting (none or balanced) are chosen by
5-fold stratified cross-validation on the train split (macro-F1), so the test split is used once.
"""
import json
import os
import sys

from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline


def read(path):
    texts, labels = [], []
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                texts.append(r["text"])
                labels.append(r["label"])
    return texts, labels


def main():
    data = sys.argv[1] if len(sys.argv) > 1 else "data"
    x_train, y_train = read(os.path.join(data, "train.jsonl"))
    x_test, y_test = read(os.path.join(data, "test.jsonl"))
    pipe = make_pipeline(TfidfVectorizer(sublinear_tf=True), LogisticRegression(max_iter=5000))
    grid = GridSearchCV(pipe, {"logisticregression__C": [1, 3, 10, 30, 100, 300, 1000],
                               "logisticregression__class_weight": [None, "balanced"]}, scoring="f1_macro",
                        cv=StratifiedKFold(5, shuffle=True, random_state=0))
    grid.fit(x_train, y_train)
    pred = grid.predict(x_test)
    labels = sorted(set(y_train))
    per_class = f1_score(y_test, pred, labels=labels, average=None)
    result = {
        "model": "TfidfVectorizer(sublinear_tf=True) + LogisticRegression",
        "C": grid.best_params_["logisticregression__C"],
        "class_weight": grid.best_params_["logisticregression__class_weight"],
        "test_macro_f1": round(float(f1_score(y_test, pred, average="macro")), 4),
        "test_accuracy": round(float(accuracy_score(y_test, pred)), 4),
        "test_f1_per_class": {l: round(float(v), 4) for l, v in zip(labels, per_class)},
        "train_examples": len(x_train),
        "test_examples": len(x_test),
    }
    if len(sys.argv) > 2:
        with open(sys.argv[2], encoding="utf-8") as f:
            preds = [json.loads(line) for line in f if line.strip()]
        preds = [p[0]["label"] if isinstance(p, list) else p["label"] for p in preds]
        if len(preds) != len(y_test):
            sys.exit(f"{sys.argv[2]}: {len(preds)} predictions for {len(y_test)} test texts")
        result["given_predictions"] = {
            "test_macro_f1": round(float(f1_score(y_test, preds, average="macro")), 4),
            "test_accuracy": round(float(accuracy_score(y_test, preds)), 4),
            "test_f1_per_class": {l: round(float(v), 4)
                                  for l, v in zip(labels, f1_score(y_test, preds, labels=labels, average=None))},
        }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
