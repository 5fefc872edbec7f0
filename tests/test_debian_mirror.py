"""Which Debian mirror scripts/fetch-upstream-versions.sh fetches from: the one this machine's
apt sources name (debian_mirror in scripts/demo/lib.sh), never an address written in the repo.

Each test gives apt a sources folder and a lists folder of its own (APT_CONFIG), so apt itself
parses them, as on a real machine; nothing is downloaded.
"""

import os
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEBIAN_RELEASE = "Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: trixie\n"
SECURITY_RELEASE = "Origin: Debian\nLabel: Debian-Security\nCodename: trixie-security\n"
UBUNTU_RELEASE = "Origin: Ubuntu\nLabel: Ubuntu\nSuite: noble\nCodename: noble\n"


def debian_mirror(tmp_path: Path, sources: dict[str, str], lists: dict[str, str], **env):
    """Run debian_mirror with these files in sources.list.d and in apt's lists folder."""
    (tmp_path / "sources.list.d").mkdir()
    (tmp_path / "lists").mkdir()
    for name, text in sources.items():
        (tmp_path / "sources.list.d" / name).write_text(text)
    for name, text in lists.items():
        (tmp_path / "lists" / name).write_text(text)
    (tmp_path / "apt.conf").write_text(
        f'Dir::Etc::SourceList "{tmp_path}/none.list";\n'
        f'Dir::Etc::SourceParts "{tmp_path}/sources.list.d";\n'
        f'Dir::State::Lists "{tmp_path}/lists";\n'
    )
    environ = {k: v for k, v in os.environ.items() if k != "DEBIAN_MIRROR"}
    environ.update(APT_CONFIG=str(tmp_path / "apt.conf"), ROOT=str(ROOT), **env)
    return subprocess.run(
        ["bash", "-c", ". scripts/demo/lib.sh && debian_mirror"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=30,
    )


SECURITY_AND_MIRROR_DEB822 = """\
Types: deb
URIs: http://security.mirror.test/debian-security
Suites: trixie-security
Components: main

Types: deb
URIs: http://apt-proxy.test:3142/debian/
Suites: trixie trixie-updates
Components: main
"""


def test_it_takes_the_mirror_from_deb822_sources_not_the_security_archive(tmp_path):
    done = debian_mirror(
        tmp_path,
        {"debian.sources": SECURITY_AND_MIRROR_DEB822},
        {
            "security.mirror.test_debian-security_dists_trixie-security_InRelease": (
                SECURITY_RELEASE
            ),
            "apt-proxy.test:3142_debian_dists_trixie_InRelease": DEBIAN_RELEASE,
        },
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "http://apt-proxy.test:3142/debian"


def test_it_takes_the_mirror_from_a_one_line_list(tmp_path):
    done = debian_mirror(
        tmp_path,
        {"mirror.list": "deb http://ftp.mirror.test/debian trixie main\n"},
        {"ftp.mirror.test_debian_dists_trixie_Release": DEBIAN_RELEASE},
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "http://ftp.mirror.test/debian"


def test_it_refuses_sources_that_name_no_debian_mirror_and_says_what_to_set(tmp_path):
    done = debian_mirror(
        tmp_path,
        {"ubuntu.list": "deb http://archive.mirror.test/ubuntu noble main\n"},
        {"archive.mirror.test_ubuntu_dists_noble_InRelease": UBUNTU_RELEASE},
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert "set DEBIAN_MIRROR" in done.stderr


def test_it_takes_debian_mirror_from_the_environment_first(tmp_path):
    done = debian_mirror(
        tmp_path,
        {"mirror.list": "deb http://ftp.mirror.test/debian trixie main\n"},
        {"ftp.mirror.test_debian_dists_trixie_Release": DEBIAN_RELEASE},
        DEBIAN_MIRROR="http://own.mirror.test/debian/",
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "http://own.mirror.test/debian"


def test_it_takes_a_source_not_downloaded_yet_of_the_hosts_own_debian_suite(tmp_path):
    """Container images delete apt's lists: then a Debian host's own suite counts."""
    (tmp_path / "os-release").write_text("ID=debian\nVERSION_CODENAME=trixie\n")
    done = debian_mirror(
        tmp_path,
        {"debian.list": "deb http://deb.mirror.test/debian trixie main\n"},
        {},
        OS_RELEASE=str(tmp_path / "os-release"),
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "http://deb.mirror.test/debian"


def test_it_takes_no_source_not_downloaded_yet_on_ubuntu(tmp_path):
    (tmp_path / "os-release").write_text("ID=ubuntu\nVERSION_CODENAME=noble\n")
    done = debian_mirror(
        tmp_path,
        {"ubuntu.list": "deb http://archive.mirror.test/ubuntu noble main\n"},
        {},
        OS_RELEASE=str(tmp_path / "os-release"),
    )
    assert done.returncode != 0
    assert "set DEBIAN_MIRROR" in done.stderr


def test_it_does_not_take_the_security_archive_for_a_mirror(tmp_path):
    (tmp_path / "os-release").write_text("ID=ubuntu\nVERSION_CODENAME=noble\n")
    done = debian_mirror(
        tmp_path,
        {"security.list": "deb http://security.mirror.test/debian-security trixie-security main\n"},
        {"security.mirror.test_debian-security_dists_trixie-security_InRelease": SECURITY_RELEASE},
        OS_RELEASE=str(tmp_path / "os-release"),
    )
    assert done.returncode != 0
    assert done.stdout == ""
    assert "set DEBIAN_MIRROR" in done.stderr
