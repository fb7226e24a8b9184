package dev.cgbpf.engine.maps;

import dev.cgbpf.engine.backend.BpfException;
import dev.cgbpf.engine.backend.Errno;
import dev.cgbpf.engine.backend.MapSpec;
import dev.cgbpf.engine.backend.MapType;
import dev.cgbpf.engine.interp.AddressSpace;
import dev.cgbpf.engine.interp.QueueStackOps;

import java.util.Arrays;

/**
 * BPF_MAP_TYPE_QUEUE and BPF_MAP_TYPE_STACK (kernel/bpf/queue_stack_maps.c): a FIFO or a LIFO of
 * up to max_entries values without keys. key_size must be 0 and value_size above 0; the creation
 * flags are BPF_F_NUMA_NODE and the access flags. The elements live in a ring of max_entries + 1
 * slots between {@code tail} (the oldest) and {@code head} (the next free slot), as in the kernel:
 * head == tail is empty, head + 1 == tail (modulo the ring) is full.
 *
 * <p>Programs never get a pointer into the map: the helpers copy values in and out. The element
 * commands are those of the kernel's bpf_map_copy_value and bpf_map_update_value for these types:
 * lookup peeks, update pushes, lookup-and-delete pops; delete and get_next_key are -EINVAL.
 */
public final class QueueStackMap extends EngineMap implements QueueStackOps {
    /** QUEUE_STACK_CREATE_FLAG_MASK: BPF_F_NUMA_NODE | BPF_F_ACCESS_MASK. */
    static final int CREATE_FLAGS = BPF_F_NUMA_NODE | ACCESS_FLAGS;
    /** KMALLOC_MAX_SIZE on x86-64 (4 MiB): a larger value_size is E2BIG. */
    static final long KMALLOC_MAX_SIZE = 4L << 20;

    private final boolean stack;
    /** max_entries + 1 slots of value_size bytes */
    private final byte[] elements;
    private final int size;
    private int head;
    private int tail;

    private QueueStackMap(MapSpec spec, AddressSpace space) {
        super(spec, space, 0);
        this.stack = spec.type() == MapType.STACK;
        this.size = spec.maxEntries() + 1;
        this.elements = new byte[Math.multiplyExact(size, spec.valueSize())];
    }

    /** queue_stack_map_alloc_check, then the allocation's size. */
    static QueueStackMap createQueueStack(MapSpec spec, AddressSpace space) throws BpfException {
        int rdwrProg = BPF_F_RDONLY_PROG | BPF_F_WRONLY_PROG;
        if (spec.maxEntries() == 0 || spec.keySize() != 0 || spec.valueSize() == 0
                || (spec.flags() & ~CREATE_FLAGS) != 0 || (spec.flags() & rdwrProg) == rdwrProg) {
            throw new BpfException(Errno.EINVAL, spec.type().scenarioName() + " map needs key_size 0, value_size > 0,"
                    + " max_entries > 0 and flags among BPF_F_NUMA_NODE and the access flags (got key_size "
                    + Integer.toUnsignedString(spec.keySize()) + ", value_size " + Integer.toUnsignedString(spec.valueSize())
                    + ", max_entries " + Integer.toUnsignedString(spec.maxEntries()) + ", flags 0x"
                    + Integer.toHexString(spec.flags()) + ")");
        }
        if (Integer.toUnsignedLong(spec.valueSize()) > KMALLOC_MAX_SIZE) {
            throw new BpfException(Errno.E2BIG, spec.type().scenarioName() + " map value_size "
                    + Integer.toUnsignedString(spec.valueSize()) + " is above KMALLOC_MAX_SIZE");
        }
        // the kernel allocates (max_entries + 1) * value_size bytes in one piece
        checkMemory(spec, (Integer.toUnsignedLong(spec.maxEntries()) + 1) * spec.valueSize());
        return new QueueStackMap(spec, space);
    }

    /** The verifier lets only bpf_map_push/pop/peek_elem take this map. */
    @Override
    public boolean helperAccessible() {
        return false;
    }

    private boolean isEmpty() {
        return head == tail;
    }

    private boolean isFull() {
        int next = head + 1 >= size ? 0 : head + 1;
        return next == tail;
    }

    @Override
    public synchronized int push(byte[] value, long flags) {
        if ((flags & BPF_NOEXIST) != 0 || Long.compareUnsigned(flags, BPF_EXIST) > 0) {
            return EINVAL;
        }
        if (isFull()) {
            if (flags != BPF_EXIST) {
                return E2BIG;
            }
            // BPF_EXIST makes room by dropping the oldest element, for a stack too
            tail = tail + 1 >= size ? 0 : tail + 1;
        }
        System.arraycopy(value, 0, elements, head * spec.valueSize(), spec.valueSize());
        head = head + 1 >= size ? 0 : head + 1;
        return 0;
    }

    @Override
    public synchronized int get(byte[] into, boolean delete) {
        if (isEmpty()) {
            Arrays.fill(into, 0, spec.valueSize(), (byte) 0);
            return ENOENT;
        }
        // a queue takes from the tail (oldest), a stack from just below the head (newest)
        int index = stack ? (head == 0 ? size - 1 : head - 1) : tail;
        System.arraycopy(elements, index * spec.valueSize(), into, 0, spec.valueSize());
        if (delete) {
            if (stack) {
                head = index;
            } else {
                tail = tail + 1 >= size ? 0 : tail + 1;
            }
        }
        return 0;
    }

    // ---- the keyed element operations: there are no keys ----

    @Override
    public int lookupIndex(byte[] key) {
        return -1;
    }

    /** bpf_map_update_value sends a queue's or stack's update to map_push_elem. */
    @Override
    public int updateElem(byte[] key, byte[] value, long flags) {
        return push(value, flags);
    }

    /** queue_stack_map_delete_elem */
    @Override
    public int deleteElem(byte[] key) {
        return EINVAL;
    }

    /** queue_stack_map_get_next_key answers -EINVAL; null stands for "no key" in this API. */
    @Override
    public byte[] nextKey(byte[] key) {
        return null;
    }
}
