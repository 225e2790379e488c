"""Runs `distill demo --quick` twice (the second with --labels 500) and checks what a user
would check: the figures, the validation/test protocol, the report's contents.

usage: check_demo_quick.py DISTILL_BINARY WORK_DIR
"""
import json
import pathlib
import shutil
import subprocess
import sys


def run(binary, out_dir, cache_dir, *extra):
    result = subprocess.run(
        [binary, "demo", "--quick", "--out", str(out_dir), "--cache-dir", str(cache_dir), *extra],
        capture_output=True, text=True, timeout=540)
    if result.returncode != 0:
        sys.exit(f"demo failed ({result.returncode}):\n{result.stdout}\n{result.stderr}")
    return result


def main():
    binary, work = sys.argv[1], pathlib.Path(sys.argv[2])
    shutil.rmtree(work, ignore_errors=True)
    out, cache = work / "out", work / "cache"
    first = run(binary, out, cache)

    summary = json.loads((out / "summary.json").read_text())
    models = {m["name"]: m for m in summary["models"]}
    teacher = models["teacher"]
    labels_only = models["student (labels only)"]
    distilled = models["student (distilled)"]
    problems = []
    if not distilled["test_accuracy"] > labels_only["test_accuracy"]:
        problems.append(f"distilled {distilled['test_accuracy']} does not beat labels only "
                        f"{labels_only['test_accuracy']}")
    if not distilled["parameters"] * 3 < teacher["parameters"]:
        problems.append("the student is not much smaller than the teacher")
    if not distilled["agreement_with_teacher"] > labels_only["agreement_with_teacher"]:
        problems.append("the distilled student agrees less with the teacher than the labels-only one")
    if sum(map(sum, summary["confusion_teacher_vs_distilled"])) != 2000:
        problems.append("the confusion matrix does not count the 2000 quick test images")
    for curve in summary["curves"]:
        if not curve["train_loss"] or any(v is None for v in curve["validation_accuracy"]):
            problems.append(f"curve {curve['model']} is incomplete")
    # The protocol: epochs chosen on a validation split of the training
    # images; the test set (2000 quick images) only for the final figures.
    settings = summary["settings"]
    if settings["validation_examples"] != 1000 or settings["test_examples"] != 2000:
        problems.append(f"expected 1000 validation and 2000 test images, got {settings}")
    if settings["labelled_examples"] != 300 or settings["unlabelled_examples"] != 6700:
        problems.append(f"expected 300 labelled and 6700 unlabelled images, got {settings}")
    if not summary["quick"] or "quick run" not in (out / "report.html").read_text():
        problems.append("the quick run is not marked as one")
    if not settings["threads"] >= 1:
        problems.append(f"threads reads {settings['threads']}, not the real count")
    if any(p["phase"] == "total" for p in settings["phases"]):
        problems.append("a 'total' phase counts the run time twice")
    if not 3.9 < summary["teacher_to_student_parameters"] < 4.1:
        problems.append(f"the quick teacher is 4x the student, the summary says "
                        f"{summary['teacher_to_student_parameters']}")
    if not summary["version"] or not summary["date"].endswith("Z"):
        problems.append("the version or the date is missing")
    for m in summary["models"]:
        if len(m["per_class_accuracy"]) != 10 or sum(b["count"] for b in m["reliability"]) != 2000:
            problems.append(f"{m['name']}: per-class accuracy or reliability bins incomplete")
        if not (m["samples_per_second_min"] <= m["samples_per_second_batch256"]
                <= m["samples_per_second_max"]):
            problems.append(f"{m['name']}: the throughput's median is outside its range")
    html = (out / "report.html").read_text()
    if html.count("<svg") < 4 or "student (distilled)" not in html:
        problems.append("report.html lacks its charts (curves, confusion, reliability) or rows")
    if "Distillation gain over labels only" not in first.stdout:
        problems.append("the table's conclusion line is missing from stdout")

    # Second run, with --labels 500 (honoured, not capped): the teacher
    # comes from the cache, its answers (a subset of the first run's) from the store.
    second = run(binary, work / "out2", cache, "--labels", "500")
    if "teacher loaded from" not in second.stderr:
        problems.append("the second run trained the teacher again")
    if "the teacher answered 0 images" not in second.stderr:
        problems.append("the second run asked the teacher again:\n" + second.stderr[-2000:])
    labels_500 = json.loads((work / "out2" / "summary.json").read_text())["settings"]
    if labels_500["labelled_examples"] != 500:
        problems.append(f"--quick --labels 500 used {labels_500['labelled_examples']} labels")

    if problems:
        sys.exit("\n".join(problems))
    print(f"demo --quick: teacher {teacher['test_accuracy']:.4f}, labels only "
          f"{labels_only['test_accuracy']:.4f}, distilled {distilled['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
