"""LanceDB imports without running its REST namespace client's package body, which still
runs, unchanged, once something asks that package for a name, and without checking its
``@override`` marks, which are restored afterwards."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import overrides

from vidseek.store.lancedb_import import defer_package_body, marking_overrides


def run_python(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120, check=True)
    return done.stdout.strip()


def test_store_import_skips_the_client_api_until_asked():
    out = run_python("""
        import sys
        import vidseek.store.store
        print("api" if "lance_namespace_urllib3_client.api" in sys.modules else "no api")
        import lance_namespace_urllib3_client as client
        print(client.TableApi.__module__)
    """)
    assert out.splitlines() == ["no api", "lance_namespace_urllib3_client.api.table_api"]


def test_a_deferred_package_runs_its_body_once_on_the_first_missing_name(tmp_path,
                                                                         monkeypatch):
    package = tmp_path / "deferred_pkg"
    package.mkdir()
    (package / "__init__.py").write_text(
        "import builtins\n"
        "builtins.deferred_runs = getattr(builtins, 'deferred_runs', 0) + 1\n"
        "from deferred_pkg.part import VALUE\n"
        "GREETING = 'hello'\n")
    (package / "part.py").write_text("VALUE = 42\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in ("deferred_pkg", "deferred_pkg.part"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    import builtins

    monkeypatch.setattr(builtins, "deferred_runs", 0, raising=False)

    defer_package_body("deferred_pkg")
    from deferred_pkg.part import VALUE  # a submodule: the body has not run

    assert VALUE == 42 and builtins.deferred_runs == 0
    import deferred_pkg

    assert deferred_pkg.GREETING == "hello" and builtins.deferred_runs == 1
    assert deferred_pkg.VALUE == 42 and builtins.deferred_runs == 1
    defer_package_body("deferred_pkg")  # already imported: left alone
    assert sys.modules["deferred_pkg"] is deferred_pkg


def test_a_missing_package_is_left_to_fail_as_usual():
    defer_package_body("no_such_package_here")
    assert "no_such_package_here" not in sys.modules


def test_lancedb_methods_are_marked_and_overrides_checks_again_afterwards():
    out = run_python("""
        import overrides
        checking = overrides.override
        import vidseek.store.store
        from lancedb.db import LanceDBConnection
        print(LanceDBConnection.table_names.__override__, overrides.override is checking)
    """)
    assert out == "True True"


def test_override_marks_in_both_forms_inside_and_checks_outside():
    with marking_overrides():
        class Base:
            def run(self): ...

        class Child(Base):
            @overrides.override
            def run(self): ...

            @overrides.override(check_signature=False)
            def stop(self): ...  # overrides nothing: not checked while marking

    assert Child.run.__override__ and Child.stop.__override__
    try:
        class Wrong(Base):
            @overrides.override
            def stop(self): ...
    except TypeError:
        pass
    else:
        raise AssertionError("overrides.override no longer checks after the block")
