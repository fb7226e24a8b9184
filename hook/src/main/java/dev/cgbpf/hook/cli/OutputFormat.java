package dev.cgbpf.hook.cli;

/** How a report command prints: text for people, or one JSON object ({@code --json}) for tools. */
enum OutputFormat {
    TEXT,
    JSON;

    /**
     * The options of a command whose only option is {@code --json}: JSON when it is given, else
     * TEXT; any other option, or a value given to it, is a usage error.
     */
    static OutputFormat fromOptions(Args args) throws CliException {
        OutputFormat format = TEXT;
        for (String o; (o = args.nextOption()) != null; ) {
            if (o.equals("--json")) {
                args.noValue(o);
                format = JSON;
            } else {
                throw args.unknownOption(o);
            }
        }
        return format;
    }
}
