package dev.cgbpf.hook.oci;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;

/**
 * Directories the hook makes for itself (/run/cgbpf, /var/log/cgbpf, the pin directories): mode
 * 0700, and an existing one must be a real directory, not a symbolic link somebody planted.
 */
public final class Secure {
    static final Set<PosixFilePermission> DIR_MODE = PosixFilePermissions.fromString("rwx------");

    private Secure() {
    }

    /**
     * Makes {@code dir} and missing parents; the ones made get mode 0700. An existing directory
     * costs one lstat: the daemon passes here several times per container, and a mkdir that fails
     * with EEXIST costs Java an exception with its stack trace each time.
     */
    public static void mkdirs(Path dir) throws IOException {
        if (Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null && !Files.isDirectory(parent, LinkOption.NOFOLLOW_LINKS)) {
            mkdirs(parent);
        }
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(DIR_MODE));
            // the umask may have cleared bits we asked for, never added any: set it exactly
            Files.setPosixFilePermissions(dir, DIR_MODE);
        } catch (FileAlreadyExistsException e) {
            if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                throw new IOException(dir + " exists and is not a directory (or is a symbolic link)");
            }
        }
    }
}
