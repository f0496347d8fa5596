package io.sparklora.cli;

import picocli.CommandLine;

/** The version line of {@code spark-lora --version}, from the jar manifest when packaged. */
public final class Versions implements CommandLine.IVersionProvider {
    /** spark-lora's version, or "dev" when running from classes. */
    public static String sparkLora() {
        String v = Versions.class.getPackage().getImplementationVersion();
        return v != null ? v : "dev";
    }

    @Override
    public String[] getVersion() {
        return new String[] {"spark-lora " + sparkLora() + " (Java " + System.getProperty("java.version") + ")"};
    }
}
