"""Runs `distill demo --quick` twice and checks what a user would check.

usage: check_demo_quick.py DISTILL_BINARY WORK_DIR
"""
import json
import pathlib
import shutil
import subprocess
import sys


def run(binary, out_dir, cache_dir):
    result = subprocess.run(
        [binary, "demo", "--quick", "--out", str(out_dir), "--cache-dir", str(cache_dir)],
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
    html = (out / "report.html").read_text()
    if html.count("<svg") < 3 or "student (distilled)" not in html:
        problems.append("report.html lacks its charts or rows")
    if "Distillation gain over labels only" not in first.stdout:
        problems.append("the table's conclusion line is missing from stdout")

    # Second run: the teacher comes from the cache, its answers from the store.
    second = run(binary, work / "out2", cache)
    if "teacher loaded from" not in second.stderr:
        problems.append("the second run trained the teacher again")
    if "the teacher answered 0 images" not in second.stderr:
        problems.append("the second run asked the teacher again:\n" + second.stderr[-2000:])

    if problems:
        sys.exit("\n".join(problems))
    print(f"demo --quick: teacher {teacher['test_accuracy']:.4f}, labels only "
          f"{labels_only['test_accuracy']:.4f}, distilled {distilled['test_accuracy']:.4f}")


if __name__ == "__main__":
    main()
