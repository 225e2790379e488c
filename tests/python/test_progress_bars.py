"""The progress bars of distill._progress: carriage-return redraws only
where they render in place (a terminal, Jupyter), whole lines in logs."""
import io

from distill._progress import AskProgress, Bar


class Terminal(io.StringIO):
    def isatty(self):
        return True


def ask_events(total):
    for done in range(1, total + 1):
        yield {"done": done, "total": total, "asked": done, "from_store": 0,
               "seconds": 0.01 * done}


def test_a_log_gets_whole_lines_and_no_carriage_returns():
    log = io.StringIO()
    progress = AskProgress(log)
    for event in ask_events(500):
        progress(event)
    progress.close()
    text = log.getvalue()
    assert "\r" not in text
    lines = text.splitlines()
    # The first line at once, then at most one per 10 s (none in this short
    # run) and the final one: not one line per event.
    assert 1 <= len(lines) <= 3, lines
    assert lines[-1].startswith("teacher: 100%") and "500/500" in lines[-1]
    assert text.endswith("\n")


def test_a_terminal_gets_one_line_redrawn_in_place():
    tty = Terminal()
    progress = AskProgress(tty)
    for event in ask_events(50):
        progress(event)
    progress.close()
    text = tty.getvalue()
    assert text.startswith("\r") and text.count("\n") == 1 and text.endswith("\n")
    assert "50/50" in text.rsplit("\r", 1)[-1]


def test_a_closed_stream_counts_as_a_log():
    closed = io.StringIO()
    closed.close()
    assert not Bar("ex", closed).in_place
