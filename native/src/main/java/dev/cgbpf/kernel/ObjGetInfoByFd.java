package dev.cgbpf.kernel;

import dev.cgbpf.engine.backend.BpfException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * BPF_OBJ_GET_INFO_BY_FD: the kernel's id, type, name and tag of a loaded program ({@code struct
 * bpf_prog_info}), the id, type, sizes, flags and name of a map ({@code struct bpf_map_info}), and
 * the id, program and cgroup of a cgroup link ({@code struct bpf_link_info}).
 *
 * <p>info_len is set to the end of the last field read: the kernel copies min(info_len, its own
 * size) and requires bytes beyond its own size to be zero, so asking for less is always safe.
 */
public final class ObjGetInfoByFd {
    public static final UapiField BPF_FD = UapiField.attr("info.bpf_fd", 0, 4);
    public static final UapiField INFO_LEN = UapiField.attr("info.info_len", 4, 4);
    public static final UapiField INFO = UapiField.attr("info.info", 8, 8);

    static final String PROG_INFO = "struct bpf_prog_info";
    public static final UapiField PROG_TYPE = new UapiField(PROG_INFO, "type", 0, 4);
    public static final UapiField PROG_ID = new UapiField(PROG_INFO, "id", 4, 4);
    public static final UapiField PROG_TAG = new UapiField(PROG_INFO, "tag", 8, 8);
    public static final UapiField PROG_NAME = new UapiField(PROG_INFO, "name", 64, 16);

    static final String MAP_INFO = "struct bpf_map_info";
    public static final UapiField MAP_INFO_TYPE = new UapiField(MAP_INFO, "type", 0, 4);
    public static final UapiField MAP_INFO_ID = new UapiField(MAP_INFO, "id", 4, 4);
    public static final UapiField MAP_INFO_KEY_SIZE = new UapiField(MAP_INFO, "key_size", 8, 4);
    public static final UapiField MAP_INFO_VALUE_SIZE = new UapiField(MAP_INFO, "value_size", 12, 4);
    public static final UapiField MAP_INFO_MAX_ENTRIES = new UapiField(MAP_INFO, "max_entries", 16, 4);
    public static final UapiField MAP_INFO_FLAGS = new UapiField(MAP_INFO, "map_flags", 20, 4);
    public static final UapiField MAP_INFO_NAME = new UapiField(MAP_INFO, "name", 24, 16);

    static final String LINK_INFO = "struct bpf_link_info";
    public static final UapiField LINK_INFO_TYPE = new UapiField(LINK_INFO, "type", 0, 4);
    public static final UapiField LINK_INFO_ID = new UapiField(LINK_INFO, "id", 4, 4);
    public static final UapiField LINK_INFO_PROG_ID = new UapiField(LINK_INFO, "prog_id", 8, 4);
    public static final UapiField LINK_INFO_CGROUP_ID = new UapiField(LINK_INFO, "cgroup.cgroup_id", 16, 8);
    public static final UapiField LINK_INFO_ATTACH_TYPE = new UapiField(LINK_INFO, "cgroup.attach_type", 24, 4);

    /** enum bpf_link_type: BPF_LINK_TYPE_CGROUP. */
    public static final int BPF_LINK_TYPE_CGROUP = 3;

    /**
     * @param tag the kernel's program tag (hash of the instructions), 16 hex digits
     */
    public record ProgInfo(int id, int type, String name, String tag) {
    }

    /** The fields of struct bpf_map_info this module reads; {@code name} is the kernel's copy. */
    public record MapInfo(int id, int type, int keySize, int valueSize, int maxEntries, int flags, String name) {
    }

    /**
     * The fields of struct bpf_link_info this module reads. {@code cgroupId} and
     * {@code attachType} are meaningful for {@code type} {@link #BPF_LINK_TYPE_CGROUP} only;
     * cgroupId is 0 once the link is defunct.
     */
    public record LinkInfo(int type, int id, int progId, long cgroupId, int attachType) {
    }

    private ObjGetInfoByFd() {
    }

    public static ProgInfo progInfo(Fd prog) throws BpfException {
        ByteBuffer info = info(prog, PROG_NAME.end(), "prog " + prog);
        StringBuilder tag = new StringBuilder();
        for (int i = 0; i < PROG_TAG.size(); i++) {
            tag.append(String.format("%02x", info.get(PROG_TAG.offset() + i) & 0xff));
        }
        return new ProgInfo(info.getInt(PROG_ID.offset()), info.getInt(PROG_TYPE.offset()),
                ObjName.decoded(info.array(), PROG_NAME.offset()), tag.toString());
    }

    public static MapInfo mapInfo(Fd map) throws BpfException {
        ByteBuffer info = info(map, MAP_INFO_NAME.end(), "map " + map);
        return new MapInfo(info.getInt(MAP_INFO_ID.offset()), info.getInt(MAP_INFO_TYPE.offset()),
                info.getInt(MAP_INFO_KEY_SIZE.offset()), info.getInt(MAP_INFO_VALUE_SIZE.offset()),
                info.getInt(MAP_INFO_MAX_ENTRIES.offset()), info.getInt(MAP_INFO_FLAGS.offset()),
                ObjName.decoded(info.array(), MAP_INFO_NAME.offset()));
    }

    public static LinkInfo linkInfo(Fd link) throws BpfException {
        ByteBuffer info = info(link, LINK_INFO_ATTACH_TYPE.end(), "link " + link);
        return new LinkInfo(info.getInt(LINK_INFO_TYPE.offset()), info.getInt(LINK_INFO_ID.offset()),
                info.getInt(LINK_INFO_PROG_ID.offset()), info.getLong(LINK_INFO_CGROUP_ID.offset()),
                info.getInt(LINK_INFO_ATTACH_TYPE.offset()));
    }

    /** The name the map was created with (cut to 15 bytes); {@code what} names it in an error. */
    public static String mapName(Fd map, String what) throws BpfException {
        return ObjName.decoded(info(map, MAP_INFO_NAME.end(), what).array(), MAP_INFO_NAME.offset());
    }

    /** The first {@code len} bytes of the object's info struct, in the kernel's (native) byte order. */
    private static ByteBuffer info(Fd obj, int len, String what) throws BpfException {
        try (BpfAttr attr = new BpfAttr(INFO); UserMem info = UserMem.zeroed(len)) {
            attr.u32(BPF_FD, obj.get());
            attr.u32(INFO_LEN, len);
            attr.ptr(INFO, info);
            BpfSyscall.call(BpfCmd.BPF_OBJ_GET_INFO_BY_FD, attr, what);
            return ByteBuffer.wrap(info.read(len)).order(ByteOrder.nativeOrder());
        }
    }
}
