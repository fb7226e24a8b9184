package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.AttachType;
import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.LinkInfo;
import dev.cgbpf.engine.backend.MapInfo;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.backend.ProgInfo;
import dev.cgbpf.engine.backend.ProgType;

/**
 * BPF_OBJ_GET_INFO_BY_FD as the Backend reports it: {@link ObjGetInfoByFd}'s raw answers with
 * their type numbers as this project's enums. A type the project does not know is EINVAL.
 */
final class KernelInfo {
    private KernelInfo() {
    }

    static ProgInfo prog(Fd prog) throws BpfException {
        ObjGetInfoByFd.ProgInfo i = ObjGetInfoByFd.progInfo(prog);
        return new ProgInfo(i.id(), progType(i.type()), i.name(), i.tag());
    }

    static MapInfo map(Fd map) throws BpfException {
        ObjGetInfoByFd.MapInfo i = ObjGetInfoByFd.mapInfo(map);
        MapType type = MapType.ofValue(i.type()).orElseThrow(() -> unknown("map type", i.type()));
        return new MapInfo(i.id(), new MapSpec(i.name(), type, i.keySize(), i.valueSize(), i.maxEntries(), i.flags()));
    }

    /** A cgroup link's info; EINVAL for a link of another kind. */
    static LinkInfo link(Fd link) throws BpfException {
        ObjGetInfoByFd.LinkInfo i = ObjGetInfoByFd.linkInfo(link);
        if (i.type() != ObjGetInfoByFd.BPF_LINK_TYPE_CGROUP) {
            throw new BpfException(Errno.EINVAL, "link id " + i.id() + " is of link type " + i.type() + ", not a cgroup link");
        }
        AttachType type = AttachType.ofValue(i.attachType()).orElseThrow(() -> unknown("attach type", i.attachType()));
        return new LinkInfo(i.id(), i.progId(), type, i.cgroupId());
    }

    static ProgType progType(int value) throws BpfException {
        return ProgType.ofValue(value).orElseThrow(() -> unknown("program type", value));
    }

    private static BpfException unknown(String what, int value) {
        return new BpfException(Errno.EINVAL, what + " " + value + " is not one cgbpf knows");
    }
}
