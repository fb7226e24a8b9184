package dev.cgbpf.hook.cli;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** A command's input operand: a file name, or {@code -} / nothing for stdin. */
record InputFile(String operand) {

    static InputFile of(String operand) {
        return new InputFile(operand == null ? "-" : operand);
    }

    boolean isStdin() {
        return operand.equals("-");
    }

    /** For messages. */
    String label() {
        return isStdin() ? "<stdin>" : operand;
    }

    byte[] readBytes(Console console) throws CliException {
        try {
            if (isStdin()) {
                return console.in().readAllBytes();
            }
            Path p = Path.of(operand);
            if (Files.isDirectory(p)) {
                throw CliException.usage(operand + ": is a directory");
            }
            return Files.readAllBytes(p);
        } catch (NoSuchFileException e) {
            throw CliException.usage(operand + ": no such file");
        } catch (AccessDeniedException e) {
            throw CliException.usage(operand + ": permission denied");
        } catch (IOException | java.nio.file.InvalidPathException e) {
            throw CliException.usage(label() + ": cannot read: " + e.getMessage());
        }
    }

    String readText(Console console) throws CliException {
        byte[] b = readBytes(console);
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(b)).toString();
        } catch (CharacterCodingException e) {
            throw CliException.badInput(label() + ": not UTF-8 text");
        }
    }
}
