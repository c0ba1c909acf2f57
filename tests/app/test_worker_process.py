"""Starting the app's workers (app/draw/worker_process.py): a spawned process with its own environment, or a thread
where the system refuses a process; our copies of the child's connection ends are closed once it runs."""

import multiprocessing
import os

from app.draw import worker_process
from app.draw.worker_process import start_worker


def report_environment(connection) -> None:
    connection.send(os.environ.get("LAYERLAB_TEST_WORKER", "unset"))
    connection.close()


def test_a_process_gets_its_environment_and_ours_is_left_alone():
    ours, theirs = multiprocessing.Pipe()
    worker, mode = start_worker(report_environment, (theirs,), "layerlab-test", "process",
                                environment={"LAYERLAB_TEST_WORKER": "child"})
    assert mode == "process" and isinstance(worker, multiprocessing.process.BaseProcess)
    assert ours.poll(60) and ours.recv() == "child"
    worker.join(10)
    assert theirs.closed and "LAYERLAB_TEST_WORKER" not in os.environ


def test_where_no_process_can_start_a_thread_does_the_work(monkeypatch):
    class Refused:
        def Process(self, **_kwargs):  # noqa: N802 (multiprocessing's name)
            class Unstartable:
                def start(self):
                    raise OSError("no processes in this sandbox")
            return Unstartable()

    monkeypatch.setattr(worker_process.multiprocessing, "get_context", lambda _method: Refused())
    ours, theirs = multiprocessing.Pipe()
    worker, mode = start_worker(report_environment, (theirs,), "layerlab-test", "process")
    assert mode == "thread" and worker.name == "layerlab-test"
    assert ours.poll(10) and ours.recv() == "unset"
    worker.join(10)
