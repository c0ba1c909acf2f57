"""Project files: save and open round-trip exactly; bare network specs open as imports; every bad file
is refused with a message naming it and the problem, and the window keeps what it had."""

import json
import os

import pytest

from app.document.project_file import MAX_BYTES, ProjectFileError, read_project, write_project


def write(tmp_path, content, name="project.layerlab"):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    return path


def project(**changes):
    base = {"format": "layerlab-project", "version": 1,
            "network": {"format": "layerlab-network", "version": 1, "name": "mlp",
                        "nodes": [{"id": "input", "type": "Input", "shape": [4]},
                                  {"id": "dense1", "type": "Dense", "units": 2}],
                        "edges": [["input", "dense1"]]},
            "layout": {"input": [0, 0], "dense1": [0, 80]},
            "training": {"dataset": "xor"}}
    base.update(changes)
    return {key: value for key, value in base.items() if value is not None}


def test_write_then_read_gives_back_the_same_project(tmp_path, seed_spec):
    path = tmp_path / "seed.layerlab"
    layout = {node["id"]: (1.5 * i, 80.25 * i) for i, node in enumerate(seed_spec["nodes"])}
    training = {"dataset": "mnist", "epochs": 3, "optimizer": {"name": "adam", "lr": 1e-4}}
    write_project(path, seed_spec, layout, training)
    opened = read_project(path)
    assert opened.spec == seed_spec and opened.layout == layout and opened.training == training
    assert not opened.is_import and opened.name == "seed-cnn"
    first = path.read_bytes()
    write_project(path, opened.spec, opened.layout, opened.training)
    assert path.read_bytes() == first
    assert [p.name for p in tmp_path.iterdir()] == ["seed.layerlab"]  # no temporary file left


def test_a_bare_network_spec_opens_as_an_import(network_file):
    opened = read_project(network_file)
    assert opened.is_import and opened.layout is None and opened.training is None
    assert opened.name == "tiny-mlp"


@pytest.mark.parametrize(("content", "problem"), [
    ("{not json", "is not valid JSON (Expecting property name enclosed in double quotes at line 1, column 2)"),
    (b"\xff\xfe\x00binary", "is not UTF-8 text (byte 0 cannot be read)"),
    ([1, 2], "does not hold a JSON object"),
    ({"format": "keras"}, "is not a LayerLab project or network (format is 'keras'"),
    (project(version="1"), "has no valid format version (version is '1'"),
    (project(version=2), "was saved by a newer LayerLab (project version 2; this one reads up to 1); update"),
    (project(network=None), "has no network"),
    (project(network={"version": 9, "nodes": []}), "was saved by a newer LayerLab (network version 9"),
    (project(network={"nodes": []}), "has no nodes"),
    (project(network={"nodes": [{"id": "a"}]}), "node 0 needs a text 'id' and 'type'"),
    (project(network={"nodes": [{"id": "a", "type": "Flatten"}, {"id": "b", "type": "Flatten"}],
                      "edges": [["a", "b"], ["b", "a"]]}),
     "holds a network the canvas cannot show: a: the connections form a cycle through a, b"),
    (project(network={"nodes": [{"id": "a", "type": "Flatten"}, {"id": "a", "type": "Flatten"}]}),
     "holds a network the canvas cannot show: a: this id is used by more than one node"),
    (project(layout={"input": [0, "x"]}), "has an unreadable position for 'input'"),
    ('{"format": "layerlab-project", "version": 1, "layout": {"a": [NaN, 0]}}',
     "holds NaN, which is not a number JSON allows"),
    (project(training=[1]), "has unreadable training settings"),
    (project(training={"dataset": 5}), "names no data set"),
])
def test_bad_files_name_the_file_and_the_problem(tmp_path, content, problem):
    path = write(tmp_path, content)
    with pytest.raises(ProjectFileError) as raised:
        read_project(path)
    assert str(raised.value).startswith(f"{path}: {problem}")


def test_missing_folder_and_oversized_files(tmp_path):
    with pytest.raises(ProjectFileError, match="no such file"):
        read_project(tmp_path / "absent.layerlab")
    with pytest.raises(ProjectFileError, match="is a folder"):
        read_project(tmp_path)
    huge = tmp_path / "huge.layerlab"
    with huge.open("wb") as handle:
        handle.truncate(MAX_BYTES + 1)
    with pytest.raises(ProjectFileError, match="is 10,485,761 bytes; this kind of file is at most 10,485,760 bytes"):
        read_project(huge)


def test_a_design_error_is_not_a_file_error(tmp_path):
    """Files with invalid designs open: the canvas shows what is wrong with them."""
    spec = project()["network"]
    spec["nodes"][1]["units"] = 0
    opened = read_project(write(tmp_path, project(network=spec)))
    assert opened.spec["nodes"][1]["units"] == 0


def test_a_failed_write_keeps_the_old_file(tmp_path, seed_spec, monkeypatch):
    path = tmp_path / "seed.layerlab"
    write_project(path, seed_spec, {}, {"dataset": "mnist"})
    before = path.read_bytes()

    def disk_full(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", disk_full)
    with pytest.raises(ProjectFileError, match="cannot be written: No space left on device"):
        write_project(path, seed_spec, {}, {"dataset": "fashion-mnist"})
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["seed.layerlab"]


# -- through the window ------------------------------------------------------------------------------------

def test_save_as_then_open_round_trips_through_the_window(main_window, tmp_path):
    editor = main_window.editor
    editor.add_node_after("BatchNormalization", "conv1")
    editor.move_nodes({"logits": (33.25, 700.5)})
    editor.set_training_settings(editor.document.training_settings | {"epochs": 3})
    assert main_window.isWindowModified()
    path = tmp_path / "mine.layerlab"
    assert main_window.project.save_to(path)
    assert not main_window.isWindowModified()
    assert main_window.windowTitle() == "mine.layerlab[*] — LayerLab"
    saved = (editor.document.spec(), editor.document.positions(), editor.document.training_settings)

    main_window.project.new_network()
    assert editor.document.node_ids() == ["input"]
    assert main_window.project.open_file(path)
    assert (editor.document.spec(), editor.document.positions(), editor.document.training_settings) == saved
    assert main_window.project.recent_files.paths()[0] == path.absolute()
    main_window._fill_recent_menu()
    assert main_window.recent_menu.actions()[0].text() == "mine.layerlab"
    assert main_window.dashboard.training_panel.form.epochs.value() == 3


def test_opening_a_broken_or_newer_file_says_so_and_changes_nothing(main_window, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QMessageBox

    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warnings.append((title, text)))
    main_window.editor.add_node("Flatten", (300, 0))  # unsaved work that must survive
    before = main_window.editor.document.spec()
    for name, content in (("broken.layerlab", "{not json"), ("newer.layerlab", project(version=2))):
        path = write(tmp_path, content, name)
        assert not main_window.project.open_file(path)
        title, text = warnings[-1]
        assert title == "Cannot open file" and text.startswith(str(path))
    assert "newer LayerLab" in warnings[-1][1]
    assert main_window.editor.document.spec() == before and main_window.isWindowModified()
    assert main_window.windowTitle() == "seed-cnn[*] — LayerLab"


def test_importing_a_spec_lays_it_out_and_save_asks_where(main_window, network_file, monkeypatch):
    assert main_window.project.open_file(network_file)
    assert main_window.windowTitle() == "tiny-mlp[*] — LayerLab"
    assert main_window.project.path is None and not main_window.isWindowModified()
    ys = [main_window.editor.document.position(n)[1] for n in ("input", "hidden", "logits")]
    assert ys == sorted(ys)
    asked = []
    monkeypatch.setattr("app.file_dialogs.QFileDialog.getSaveFileName",
                        lambda parent, title, suggested, filters: asked.append(suggested) or ("", ""))
    assert not main_window.project.save()
    assert asked[0].endswith("tiny-mlp.layerlab")


def test_templates_open_as_new_untitled_networks(main_window):
    assert main_window.project.open_template("lenet-5")
    assert main_window.project.path is None
    assert main_window.editor.document.name == "lenet-5"
    assert not main_window.isWindowModified()
