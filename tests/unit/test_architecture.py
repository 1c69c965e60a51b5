"""Imports point down only: the protocol core stays pure, benchmarks stay out of the product."""

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "natakanu_peer"


def imports_of(path: Path) -> set[str]:
    """Absolute names of every module ``path`` imports (relative imports resolved)."""
    module = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.add(name)
            found.update(f"{name}.{alias.name}" for alias in node.names)
    return found


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


@pytest.mark.parametrize("path", modules("protocol"), ids=lambda p: p.name)
def test_the_protocol_core_imports_only_the_standard_library_and_itself(path):
    for name in imports_of(path):
        top = name.split(".")[0]
        if top == "natakanu_peer":
            assert name.startswith(("natakanu_peer.protocol", "natakanu_peer.errors")), name
        else:
            assert top in sys.stdlib_module_names or top == "__future__", name


@pytest.mark.parametrize(
    "path",
    # The benchmarks and the fault suite stand outside the application (and may use each
    # other); the application uses neither.
    [p for p in PACKAGE.rglob("*.py") if "bench" not in p.parts and "faults" not in p.parts],
    ids=lambda p: str(p.relative_to(PACKAGE)),
)
def test_the_application_never_imports_the_benchmarks_nor_the_fault_suite(path):
    assert not any(
        name.startswith(("natakanu_peer.bench", "natakanu_peer.faults"))
        for name in imports_of(path)
    )


@pytest.mark.parametrize("path", modules("net"), ids=lambda p: p.name)
def test_adapters_never_import_the_entry_point(path):
    assert not any(name.startswith("natakanu_peer.main") for name in imports_of(path))


def test_the_check_sees_imports_at_all():
    names = imports_of(PACKAGE / "protocol" / "gossip.py")
    assert "natakanu_peer.protocol.keyset" in names and "natakanu_peer.errors" in names
