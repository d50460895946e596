"""CPU, virtualization support and the verdict for compute hosts.

The primary signal is what the kernel offers: /dev/kvm answering KVM_GET_API_VERSION with 12.
CPU flags are secondary: micro-VMs expose a working /dev/kvm without vmx/svm in /proc/cpuinfo.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
import subprocess

from . import _fs

KVM_GET_API_VERSION = 0xAE00  # _IO(KVMIO=0xAE, 0x00)
KVM_API_VERSION = 12
HYPERVISOR_ARCHES = ("x86_64", "aarch64")

_ARM_VENDORS = {
    "0x41": "ARM",
    "0x48": "HiSilicon",
    "0x4e": "NVIDIA",
    "0x51": "Qualcomm",
    "0x61": "Apple",
    "0xc0": "Ampere",
}
_ARM_PARTS = {
    "0xd0c": "Neoverse-N1",
    "0xd40": "Neoverse-V1",
    "0xd49": "Neoverse-N2",
    "0xd4f": "Neoverse-V2",
    "0xac3": "AmpereOne",
    "0xd08": "Cortex-A72",
    "0xd03": "Cortex-A53",
}
# DMI sys_vendor / product_name fragments -> systemd-detect-virt's names.
_DMI_VIRT = (
    ("QEMU", "qemu"),
    ("KVM", "kvm"),
    ("OpenStack", "kvm"),
    ("Amazon EC2", "amazon"),
    ("Google", "google"),
    ("VMware", "vmware"),
    ("VirtualBox", "oracle"),
    ("innotek", "oracle"),
    ("Xen", "xen"),
    ("Microsoft Corporation", "microsoft"),
    ("BHYVE", "bhyve"),
    ("Parallels", "parallels"),
)


def _cpuinfo(root: str) -> list[dict[str, str]]:
    blocks: list[dict[str, str]] = [{}]
    for line in (_fs.read(root, "/proc/cpuinfo") or "").splitlines():
        if not line.strip():
            if blocks[-1]:
                blocks.append({})
            continue
        key, _, value = line.partition(":")
        blocks[-1][key.strip()] = value.strip()
    return [b for b in blocks if b]


def architecture(root: str) -> str:
    arch = _fs.read(root, "/proc/sys/kernel/arch")
    if arch:
        return arch
    if root in ("", "/"):
        return os.uname().machine
    text = _fs.read(root, "/proc/cpuinfo") or ""
    return "aarch64" if "CPU implementer" in text else "x86_64"


def _topology(root: str, cpus: list[dict[str, str]]) -> tuple[int, int, int]:
    """(sockets, physical cores, logical CPUs) from sysfs topology, else from cpuinfo."""
    packages: set[str] = set()
    cores: set[tuple[str, str]] = set()
    names = [c for c in _fs.listdir(root, "/sys/devices/system/cpu") if c[3:].isdigit()]
    for c in names:
        t = f"/sys/devices/system/cpu/{c}/topology"
        pkg = _fs.read(root, t + "/physical_package_id")
        core = _fs.read(root, t + "/core_id")
        if pkg is not None and core is not None:
            packages.add(pkg)
            cores.add((pkg, core))
    if packages:
        return len(packages), len(cores), len(names)
    pk = {c.get("physical id", "0") for c in cpus}
    co = {(c.get("physical id", "0"), c.get("core id", str(i))) for i, c in enumerate(cpus)}
    return max(len(pk), 1), max(len(co), 1), max(len(cpus), 1)


def _kvm(root: str) -> tuple[bool, bool, str]:
    """(device present, usable, evidence)."""
    p = _fs.path(root, "/dev/kvm")
    try:
        st = os.stat(p)
    except OSError:
        return False, False, "no /dev/kvm"
    if not stat.S_ISCHR(st.st_mode):
        # Only recorded trees hold /dev/kvm as a file: it holds the API version the ioctl gave.
        recorded = _fs.read_int(root, "/dev/kvm")
        if recorded == KVM_API_VERSION:
            return True, True, f"/dev/kvm answers KVM_GET_API_VERSION={recorded}"
        return True, False, f"/dev/kvm answers KVM_GET_API_VERSION={recorded}, not 12"
    try:
        import fcntl

        fd = os.open(p, os.O_RDWR | os.O_CLOEXEC)
    except OSError as e:
        if e.errno in (errno.EACCES, errno.EPERM):
            return True, False, "/dev/kvm exists but this user may not open it"
        return True, False, f"/dev/kvm does not open ({e.strerror})"
    try:
        version = fcntl.ioctl(fd, KVM_GET_API_VERSION)
    except OSError as e:
        return True, False, f"/dev/kvm refuses KVM_GET_API_VERSION ({e.strerror})"
    finally:
        os.close(fd)
    if version == KVM_API_VERSION:
        return True, True, f"/dev/kvm answers KVM_GET_API_VERSION={version}"
    return True, False, f"/dev/kvm answers KVM_GET_API_VERSION={version}, not 12"


def _nested(root: str) -> bool | None:
    for module in ("kvm_intel", "kvm_amd"):
        value = _fs.read(root, f"/sys/module/{module}/parameters/nested")
        if value is not None:
            return value.upper() in ("Y", "1")
    return None


DETECT_VIRT_TIMEOUT = 5.0


class VirtDetect:
    """`systemd-detect-virt --vm` running: started before the other facts are read (a process
    takes 10-20 ms, which it spends while they are), its answer read when the CPU's is made."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self._process = process

    def answer(self) -> str | None:
        try:
            out, _ = self._process.communicate(timeout=DETECT_VIRT_TIMEOUT)
        except (OSError, subprocess.SubprocessError):
            self.close()
            return None
        return out.strip() or None

    def close(self) -> None:
        """Stop it if it still runs (its answer was not needed), and reap it."""
        if self._process.poll() is None:
            self._process.kill()
            self._process.wait()


def _dmi(root: str) -> str:
    return " ".join(
        _fs.read(root, f"/sys/class/dmi/id/{f}") or ""
        for f in ("sys_vendor", "product_name", "bios_vendor")
    )


def _dmi_virt(dmi: str) -> str | None:
    for fragment, name in _DMI_VIRT:
        if fragment.lower() in dmi.lower():
            return name
    return None


def _first_cpu_flags(root: str) -> set[str]:
    """The flags of the first CPU in /proc/cpuinfo, read up to its end only (the kernel writes
    the file a CPU at a time: a 256-thread host's is large)."""
    try:
        with open(_fs.path(root, "/proc/cpuinfo"), encoding="utf-8", errors="replace") as f:
            found: dict[str, str] = {}
            for line in f:
                if not line.strip():
                    break
                key, _, value = line.partition(":")
                found[key.strip()] = value
    except OSError:
        return set()
    return set((found.get("flags") or found.get("Features") or "").split())


def _spawn_detect_virt() -> VirtDetect | None:
    tool = shutil.which("systemd-detect-virt")
    if tool is None:
        return None
    try:
        process = subprocess.Popen(
            [tool, "--vm"], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL, text=True,
        )
    except OSError:
        return None
    return VirtDetect(process)


def start_detect_virt(root: str = "/") -> VirtDetect | None:
    """Start systemd-detect-virt now when `read_cpu` will want its answer (the live host, DMI
    silent or naming no hypervisor we know, and not plainly bare metal), else None."""
    if root not in ("", "/"):
        return None
    dmi = _dmi(root)
    if _dmi_virt(dmi) is not None or (dmi.strip() and "hypervisor" not in _first_cpu_flags(root)):
        return None
    return _spawn_detect_virt()


def _virtualized_by(root: str, hypervisor_flag: bool, started: VirtDetect | None) -> str | None:
    dmi = _dmi(root)
    known = _dmi_virt(dmi)
    if known is not None:
        return known
    if dmi.strip() and not hypervisor_flag:
        return "none"  # real DMI data and no hypervisor flag: bare metal
    # DMI is silent or names no hypervisor we know: ask systemd if live (started earlier by
    # start_detect_virt, or now).
    if root in ("", "/"):
        detect = started or _spawn_detect_virt()
        answer = detect.answer() if detect is not None else None
        if answer:
            return answer
    return "unknown hypervisor" if hypervisor_flag else None


def read_cpu(root: str = "/", detect: VirtDetect | None = None) -> dict:
    """The CPU's facts; `detect` is start_detect_virt's process, if it was started."""
    cpus = _cpuinfo(root)
    first = cpus[0] if cpus else {}
    flags = set((first.get("flags") or first.get("Features") or "").split())
    arch = architecture(root)
    vendor = first.get("vendor_id")
    model = first.get("model name")
    if "CPU implementer" in first:
        vendor = _ARM_VENDORS.get(first["CPU implementer"].lower(), first["CPU implementer"])
        part = first.get("CPU part", "").lower()
        model = _ARM_PARTS.get(part, f"part {part}" if part else None)
    sockets, cores, threads = _topology(root, cpus)
    vmx, svm = "vmx" in flags, "svm" in flags
    device, usable, evidence = _kvm(root)
    kvm_module = any(_fs.exists(root, f"/sys/module/{m}") for m in ("kvm_intel", "kvm_amd", "kvm"))
    iommu = bool(_fs.listdir(root, "/sys/class/iommu")) or bool(
        _fs.listdir(root, "/sys/kernel/iommu_groups")
    )
    hw_flag = "vmx" if vmx else "svm" if svm else None
    if arch not in HYPERVISOR_ARCHES:
        verdict = "unavailable"
        reason = f"no OpenStack hypervisor is built for {arch}"
    elif usable:
        verdict = "kvm"
        reason = evidence + (
            f" ({hw_flag} flag present)"
            if hw_flag
            else " (no vmx/svm flag in /proc/cpuinfo; the kernel decides)"
        )
    elif device and "may not open" in evidence and kvm_module:
        # Not root: the device and the loaded module are what we can see; libvirt runs as root.
        verdict = "kvm"
        reason = evidence + "; the kvm module is loaded, so it is taken as usable"
    elif device:
        verdict = "emulated"
        reason = evidence + ": guests would run under plain QEMU emulation"
    elif hw_flag:
        verdict = "emulated"
        reason = (
            f"the CPU has {hw_flag} but there is no /dev/kvm: load the kvm module or "
            "enable virtualization in the firmware; until then guests are emulated"
        )
    else:
        verdict = "emulated"
        reason = (
            "no /dev/kvm and no vmx/svm flag: guests would run under plain QEMU emulation (slow)"
        )
    return {
        "vendor": vendor,
        "model": model,
        "architecture": arch,
        "sockets": sockets,
        "cores": cores,
        "threads": threads,
        "flags_vmx": vmx,
        "flags_svm": svm,
        "kvm_device": device,
        "kvm_usable": usable,
        "nested": _nested(root),
        "virtualized_by": _virtualized_by(root, "hypervisor" in flags, detect),
        "iommu": iommu,
        "virtualization": verdict,
        "virtualization_reason": reason,
    }
