"""Build the installers of Natakanu Peer: the one entry point for every system.

    python3 packaging/build.py            # what this system can build (Linux: .deb and .tar.gz)
    python3 packaging/build.py icons      # only render the icons
    python3 packaging/build.py prove      # Linux, as root: install the .deb and the .tar.gz
                                          # into a bare Debian 12 and prove they work there

It makes its own virtual environment under ``build/`` (the project and PyInstaller), renders
every icon from the one SVG source in ``resources/icons``, bundles the application with
PyInstaller (``natakanu-peer.spec``), then packs what the system it runs on can pack:

- Linux: ``dist/natakanu-peer_VERSION_amd64.deb`` and
  ``dist/natakanu-peer-VERSION-linux-x86_64.tar.gz``;
- Windows: ``dist/natakanu-peer-VERSION-setup.exe`` (Inno Setup, ``windows/natakanu-peer.iss``);
- macOS: ``dist/Natakanu Peer.app`` and ``dist/natakanu-peer-VERSION.dmg``.

Each artefact is started once after it is built (``--version``, and the window offscreen
until its first paint); its size is printed. This script only writes under ``build/`` and
``dist/``, and never installs anything on the system it runs on (``prove`` works inside a
chroot it makes).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import tomllib
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BUILD = ROOT / "build"
DIST = ROOT / "dist"
VENV = BUILD / "packaging-venv"
ICONS = BUILD / "icons"
SOURCE_ICON = ROOT / "resources" / "icons" / "natakanu-peer.svg"
DESKTOP = ROOT / "resources" / "natakanu-peer.desktop"
METAINFO = ROOT / "resources" / "natakanu-peer.metainfo.xml"
APP = "natakanu-peer"
PYINSTALLER = "pyinstaller>=6.10,<7"

#: Sizes rendered for each system: freedesktop's hicolor theme, Windows' .ico, macOS' .icns.
LINUX_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
ICO_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICNS_TYPES = {  # type -> pixel size; PNG data in each entry (macOS 10.7 and later)
    b"icp4": 16,
    b"icp5": 32,
    b"icp6": 64,
    b"ic07": 128,
    b"ic08": 256,
    b"ic09": 512,
    b"ic10": 1024,
    b"ic11": 32,
    b"ic12": 64,
    b"ic13": 256,
    b"ic14": 512,
}

#: What the bundle needs from a Linux system (PyInstaller leaves the graphics stack, the C
#: library and fontconfig to the system). Checked by ``prove`` in a bare Debian 12.
DEB_DEPENDS = [
    "libc6",  # at least the C library of the system that built the bundle: see deb()
    "libgl1",
    "libegl1",
    "libfontconfig1",
    "libfreetype6",
    "libxkbcommon0",
    "libxkbcommon-x11-0",
    "libxcb1",
    "libxcb-cursor0",
    "libxcb-icccm4",
    "libxcb-keysyms1",
    "libxcb-shape0",
    "libxcb-randr0",
    "libxcb-render-util0",
    "libxcb-xkb1",
    "libdbus-1-3",
    "libglib2.0-0",
    "fonts-dejavu-core | fonts-liberation2",
]
DEB_RECOMMENDS = ["fonts-noto-core"]  # more scripts (Inuktitut syllabics in every weight)


def version() -> str:
    with open(ROOT / "pyproject.toml", "rb") as file:
        return str(tomllib.load(file)["project"]["version"])


def run(*command: str | Path, **options: object) -> subprocess.CompletedProcess[str]:
    print("+", " ".join(str(c) for c in command), flush=True)
    return subprocess.run([str(c) for c in command], check=True, text=True, **options)  # type: ignore[call-overload, no-any-return]


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_venv() -> Path:
    """A virtual environment with the project (not editable) and PyInstaller."""
    python = venv_python()
    if not python.exists():
        run(sys.executable, "-m", "venv", VENV)
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    run(python, "-m", "pip", "install", "--quiet", "--upgrade", PYINSTALLER, ROOT)
    return python


# ---------------------------------------------------------------------- icons


def render_icons(out: Path = ICONS) -> list[Path]:
    """Every icon file from the SVG: PNGs at the hicolor sizes, .ico and .icns."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    _app = QGuiApplication.instance() or QGuiApplication([])
    renderer = QSvgRenderer(str(SOURCE_ICON))
    if not renderer.isValid():
        raise SystemExit(f"{SOURCE_ICON} is not a valid SVG")

    def png(size: int) -> bytes:
        image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
        image.fill(Qt.GlobalColor.transparent)
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        renderer.render(painter)
        painter.end()
        data = QByteArray()
        buffer = QBuffer(data)
        buffer.open(QIODevice.OpenModeFlag.WriteOnly)
        image.save(buffer, "PNG")
        return bytes(data.data())

    out.mkdir(parents=True, exist_ok=True)
    rendered = {size: png(size) for size in {*LINUX_SIZES, *ICO_SIZES, *ICNS_TYPES.values()}}
    made = []
    for size in LINUX_SIZES:
        path = out / f"{APP}-{size}.png"
        path.write_bytes(rendered[size])
        made.append(path)
    ico = out / f"{APP}.ico"
    ico.write_bytes(ico_file([rendered[s] for s in ICO_SIZES], ICO_SIZES))
    icns = out / f"{APP}.icns"
    icns.write_bytes(icns_file({kind: rendered[size] for kind, size in ICNS_TYPES.items()}))
    return [*made, ico, icns]


def ico_file(pngs: list[bytes], sizes: tuple[int, ...]) -> bytes:
    """A Windows .ico holding PNG images (read by Windows Vista and later)."""
    import struct

    header = struct.pack("<HHH", 0, 1, len(pngs))
    offset = len(header) + 16 * len(pngs)
    entries, blobs = b"", b""
    for data, size in zip(pngs, sizes, strict=True):
        side = 0 if size >= 256 else size  # 0 means 256 in an ICONDIRENTRY
        entries += struct.pack("<BBBBHHII", side, side, 0, 0, 1, 32, len(data), offset)
        blobs += data
        offset += len(data)
    return header + entries + blobs


def icns_file(entries: dict[bytes, bytes]) -> bytes:
    """A macOS .icns: a header, then one (type, length, PNG) entry per size."""
    import struct

    body = b"".join(
        kind + struct.pack(">I", 8 + len(data)) + data for kind, data in entries.items()
    )
    return b"icns" + struct.pack(">I", 8 + len(body)) + body


# ---------------------------------------------------------------------- bundle


def bundle(python: Path) -> Path:
    """The PyInstaller one-folder bundle: ``dist/pyinstaller/natakanu-peer/``."""
    env = dict(os.environ, NATAKANU_ICONS=str(ICONS), NATAKANU_VERSION=version())
    work = BUILD / "pyinstaller"
    target = DIST / "pyinstaller"
    run(
        python, "-m", "PyInstaller", "--noconfirm", "--clean", "--log-level", "WARN",
        "--workpath", work, "--distpath", target, HERE / f"{APP}.spec",
        env=env,
    )  # fmt: skip
    folder = target / APP
    smoke_test(folder / (f"{APP}.exe" if os.name == "nt" else APP))
    return folder


def smoke_test(program: Path) -> None:
    """The bundle prints the package's version and paints its window (offscreen)."""
    printed = run(program, "--version", capture_output=True).stdout.strip()
    if printed != f"{APP} {version()}":
        raise SystemExit(f"the bundle says {printed!r}, the project is {version()}")
    with tempfile.TemporaryDirectory() as data:
        env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
        painted = run(
            program, "--data-dir", data, "window", "--exit-after-paint", "--no-discovery",
            "--listen", "127.0.0.1:0", env=env, capture_output=True, timeout=120,
        )  # fmt: skip
        if "painted" not in painted.stdout:
            raise SystemExit(f"the bundle's window did not paint:\n{painted.stderr}")
    print(f"  {program.name} {version()} starts and paints its window")


# ---------------------------------------------------------------------- Linux


def deb(folder: Path) -> Path:
    """``dist/natakanu-peer_VERSION_amd64.deb``: the bundle under /opt, a launcher, the
    desktop entry, icons at every hicolor size, AppStream metainfo."""
    stage = BUILD / "deb"
    shutil.rmtree(stage, ignore_errors=True)
    opt = stage / "opt" / APP
    shutil.copytree(folder, opt, symlinks=True)
    (stage / "usr/bin").mkdir(parents=True)
    (stage / "usr/bin" / APP).symlink_to(f"/opt/{APP}/{APP}")
    share = stage / "usr/share"
    (share / "applications").mkdir(parents=True)
    shutil.copyfile(DESKTOP, share / "applications" / DESKTOP.name)
    (share / "metainfo").mkdir(parents=True)
    shutil.copyfile(METAINFO, share / "metainfo" / "org.natakanu.peer.metainfo.xml")
    for size in LINUX_SIZES:
        place = share / "icons/hicolor" / f"{size}x{size}" / "apps"
        place.mkdir(parents=True)
        shutil.copyfile(ICONS / f"{APP}-{size}.png", place / f"{APP}.png")
    scalable = share / "icons/hicolor/scalable/apps"
    scalable.mkdir(parents=True)
    shutil.copyfile(SOURCE_ICON, scalable / f"{APP}.svg")
    docs = share / "doc" / APP
    docs.mkdir(parents=True)
    shutil.copyfile(ROOT / "LICENSE", docs / "copyright")
    installed_kib = sum(f.stat().st_size for f in stage.rglob("*") if f.is_file()) // 1024
    control = stage / "DEBIAN"
    control.mkdir()
    (control / "control").write_text(
        f"Package: {APP}\n"
        f"Version: {version()}\n"
        "Architecture: amd64\n"
        "Maintainer: Natakanu Peer contributors <natakanu-peer@localhost>\n"
        f"Installed-Size: {installed_kib}\n"
        f"Depends: {', '.join(deb_depends())}\n"
        f"Recommends: {', '.join(DEB_RECOMMENDS)}\n"
        "Section: net\n"
        "Priority: optional\n"
        "Description: share films and recordings with your community, without internet\n"
        " Natakanu Peer lets the members of a community share archive keys, films and\n"
        " recordings directly from computer to computer on a shared network, with no\n"
        " server and no internet. It has a window, a command line and a daemon mode.\n"
    )
    DIST.mkdir(exist_ok=True)
    out = DIST / f"{APP}_{version()}_amd64.deb"
    run("dpkg-deb", "--root-owner-group", "-Zxz", "--build", stage, out)
    return out


def deb_depends() -> list[str]:
    """DEB_DEPENDS with the C library's version: the bundle's binaries were linked against
    the build system's glibc and need at least that one."""
    import platform

    glibc = platform.libc_ver()[1]
    return [f"libc6 (>= {glibc})" if d == "libc6" and glibc else d for d in DEB_DEPENDS]


def portable_libraries() -> list[str]:
    """The Debian packages the portable archive needs from the system (its README says so,
    and the proof installs only these)."""
    return [d.split(" ")[0] for d in DEB_DEPENDS if "|" not in d]


def portable(folder: Path) -> Path:
    """``dist/natakanu-peer-VERSION-linux-x86_64.tar.gz``: unpack anywhere, run
    ``natakanu-peer/natakanu-peer``."""
    out = DIST / f"{APP}-{version()}-linux-x86_64.tar.gz"
    top = f"{APP}-{version()}"
    readme = BUILD / "PORTABLE-README.txt"
    readme.write_text(
        "Natakanu Peer, portable\n\n"
        f"Run ./{APP} in this folder (no command opens the window; --help lists the\n"
        "others). It keeps its state in your user data folder, not here, so a newer\n"
        "version unpacked elsewhere finds your circles and files.\n\n"
        "On a bare system it needs these libraries (Debian and Ubuntu package names):\n"
        f"{' '.join(portable_libraries())}\n"
    )
    with tarfile.open(out, "w:gz", compresslevel=9) as archive:
        archive.add(folder, arcname=top)
        archive.add(readme, arcname=f"{top}/README.txt")
        archive.add(DESKTOP, arcname=f"{top}/{DESKTOP.name}")
        archive.add(ICONS / f"{APP}-256.png", arcname=f"{top}/{APP}.png")
    return out


# ---------------------------------------------------------------------- Windows, macOS


def windows_installer(folder: Path) -> Path:
    """Inno Setup compiles ``windows/natakanu-peer.iss`` around the bundle."""
    compiler = shutil.which("iscc") or r"C:\Program Files (x86)\Inno Setup 6\ISCC.exe"
    run(
        compiler, f"/DAppVersion={version()}", f"/DBundle={folder}", f"/DIcons={ICONS}",
        f"/DOutput={DIST}", HERE / "windows" / f"{APP}.iss",
    )  # fmt: skip
    return DIST / f"{APP}-{version()}-setup.exe"


def mac_disk_image() -> Path:
    app = DIST / "pyinstaller" / "Natakanu Peer.app"
    out = DIST / f"{APP}-{version()}.dmg"
    stage = BUILD / "dmg"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir(parents=True)
    shutil.copytree(app, stage / app.name, symlinks=True)
    (stage / "Applications").symlink_to("/Applications")  # drag the app onto it to install
    run(
        "hdiutil", "create", "-volname", "Natakanu Peer", "-srcfolder", stage, "-ov",
        "-format", "UDZO", out,
    )  # fmt: skip
    smoke_test(app / "Contents" / "MacOS" / APP)
    return out


# ---------------------------------------------------------------------- entry point


def report(paths: list[Path]) -> None:
    print("\nartefacts:")
    for path in paths:
        size = (
            sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
            if path.is_dir()
            else path.stat().st_size
        )
        print(f"  {path.relative_to(ROOT)}  {size / 1e6:.1f} MB")


def build_all() -> list[Path]:
    python = ensure_venv()
    run(python, HERE / "build.py", "icons")  # Qt of the build environment renders them
    folder = bundle(python)
    if sys.platform.startswith("linux"):
        return [deb(folder), portable(folder)]
    if sys.platform == "win32":
        return [windows_installer(folder)]
    if sys.platform == "darwin":
        return [DIST / "pyinstaller" / "Natakanu Peer.app", mac_disk_image()]
    raise SystemExit(f"no installer recipe for {sys.platform}")


def main(argv: list[str]) -> int:
    what = argv[0] if argv else "all"
    if what == "icons":
        report(render_icons())
    elif what == "all":
        report(build_all())
    elif what == "prove":
        from prove import prove  # packaging/prove.py

        prove(
            DIST / f"{APP}_{version()}_amd64.deb",
            DIST / f"{APP}-{version()}-linux-x86_64.tar.gz",
            portable_libraries(),
        )
    else:
        print(__doc__)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
