"""The installers' inputs are whole: the bundle's recipe names every file the application
reads, the desktop entry and the AppStream metainfo are valid, every icon renders from the
one SVG. (Building and installing the packages is ``python3 packaging/build.py`` and
``packaging/build.py prove``: minutes, and root for the proof.)"""

from __future__ import annotations

import ast
import importlib.util
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "natakanu-peer.spec"
DESKTOP = ROOT / "resources" / "natakanu-peer.desktop"
METAINFO = ROOT / "resources" / "natakanu-peer.metainfo.xml"


def load_build():
    spec = importlib.util.spec_from_file_location("packaging_build", PACKAGING / "build.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def spec_list(name: str) -> list:
    tree = ast.parse(SPEC.read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return ast.literal_eval(node.value)
    raise AssertionError(f"{name} is not in the spec")


def project() -> dict:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return tomllib.load(file)["project"]


def test_the_bundle_recipe_names_every_file_the_application_reads():
    resources = spec_list("RESOURCES")
    named = {source for source, _ in resources}
    for source, target in resources:
        assert (ROOT / source).is_file(), f"the spec names {source}, which does not exist"
        # Placed where the application looks for it, relative to the package.
        assert target == str(Path(source).parent) or target == "natakanu_peer/gui/icons"
    translations = {
        str(p.relative_to(ROOT)) for p in (ROOT / "natakanu_peer/gui/i18n").glob("*.qm")
    }
    assert translations and translations <= named, translations - named
    assert "resources/icons/natakanu-peer.svg" in named
    from natakanu_peer.gui import launch

    assert launch.ICON_PLACES[0].relative_to(ROOT / "natakanu_peer") == Path(
        "gui/icons/natakanu-peer.svg"
    )
    assert launch.icon_path() is not None  # this checkout finds the one source
    assert launch.BUNDLED_FONTS == ROOT / "natakanu_peer/gui/fonts"
    assert "natakanu_peer.bench" in spec_list("UNUSED")  # benchmarks are not shipped


def test_the_desktop_entry_is_valid_and_starts_the_installed_command():
    entry = dict(
        line.split("=", 1)
        for line in DESKTOP.read_text(encoding="utf-8").splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert DESKTOP.read_text().startswith("[Desktop Entry]")
    assert entry["Type"] == "Application" and entry["Terminal"] == "false"
    command = next(iter(project()["scripts"]))
    assert entry["Exec"].split()[0] == command and entry["Icon"] == command
    assert entry["Categories"].endswith(";") and "Network" in entry["Categories"].split(";")
    assert entry["Name"] == "Natakanu Peer" and "Comment[fr]" in entry
    validator = shutil.which("desktop-file-validate")
    if validator:  # Debian package desktop-file-utils (installed by .ci/run)
        done = subprocess.run([validator, str(DESKTOP)], capture_output=True, text=True)
        assert done.returncode == 0 and not done.stdout.strip(), done.stdout + done.stderr


def test_the_metainfo_is_well_formed_and_matches_the_project():
    component = ET.parse(METAINFO).getroot()
    assert component.tag == "component" and component.get("type") == "desktop-application"
    for required in ("id", "name", "summary", "metadata_license", "project_license"):
        assert (component.findtext(required) or "").strip(), required
    assert component.findtext("project_license") == project()["license"]
    assert component.findtext("launchable") == DESKTOP.name
    assert component.find("description/p") is not None
    french = component.find("summary[@{http://www.w3.org/XML/1998/namespace}lang='fr']")
    assert french is not None and french.text
    versions = [r.get("version") for r in component.iter("release")]
    assert project()["version"] in versions, "add the version to the metainfo's releases"
    validator = shutil.which("appstreamcli")
    if validator:  # Debian package appstream (installed by .ci/run)
        done = subprocess.run(
            [validator, "validate", "--no-net", str(METAINFO)], capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr


def test_every_icon_is_rendered_from_the_one_svg(qapp, tmp_path):
    build = load_build()
    made = build.render_icons(tmp_path)
    from PySide6.QtGui import QImage

    for size in build.LINUX_SIZES:
        image = QImage(str(tmp_path / f"natakanu-peer-{size}.png"))
        assert (image.width(), image.height()) == (size, size)
        # Drawn, not blank: the centre of the icon is opaque.
        assert image.pixelColor(size // 2, size // 2).alpha() == 255
    ico = (tmp_path / "natakanu-peer.ico").read_bytes()
    reserved, kind, count = struct.unpack("<HHH", ico[:6])
    assert (reserved, kind, count) == (0, 1, len(build.ICO_SIZES))
    for n in range(count):
        _w, _h, _c, _r, _p, _b, length, offset = struct.unpack(
            "<BBBBHHII", ico[6 + 16 * n : 22 + 16 * n]
        )
        assert ico[offset : offset + 8] == b"\x89PNG\r\n\x1a\n" and offset + length <= len(ico)
    icns = (tmp_path / "natakanu-peer.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)
    assert len(made) == len(build.LINUX_SIZES) + 2


def test_the_package_says_its_version_as_the_bundle_must():
    done = subprocess.run(
        [sys.executable, "-m", "natakanu_peer", "--version"], capture_output=True, text=True
    )
    assert done.stdout.strip() == f"natakanu-peer {project()['version']}"
    build = load_build()
    assert build.version() == project()["version"]
    depends = build.deb_depends()
    assert depends[0].startswith("libc6 (>= 2.")
    assert any(d.startswith("fonts-dejavu-core") for d in depends)
