package io.sparklora.job;

import java.io.Serializable;

/**
 * One training row: plain {@code text} (loss on every next token), or a {@code prompt} and its {@code completion}
 * (loss on the completion's tokens only, as in supervised fine-tuning).
 *
 * @param text       the row's text, or null for a prompt/completion row
 * @param prompt     the prompt, or null for a text row
 * @param completion the completion, or null for a text row
 */
public record Example(String text, String prompt, String completion) implements Serializable {
    private static final long serialVersionUID = 1L;

    public Example {
        boolean isText = text != null && prompt == null && completion == null;
        boolean isPair = text == null && prompt != null && completion != null;
        if (!isText && !isPair) {
            throw new IllegalArgumentException("Invalid example: give either text, or prompt and completion (text="
                    + (text != null) + ", prompt=" + (prompt != null) + ", completion=" + (completion != null) + ")");
        }
    }

    public static Example text(String text) {
        return new Example(text, null, null);
    }

    public static Example promptCompletion(String prompt, String completion) {
        return new Example(null, prompt, completion);
    }

    public boolean isPromptCompletion() {
        return prompt != null;
    }
}
