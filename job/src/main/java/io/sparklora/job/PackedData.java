package io.sparklora.job;

import java.util.List;

/**
 * The rows of one adapter, tokenized and packed into windows, split into training and held-out windows.
 *
 * @param train        training windows, in data order (in the heap, or read from a {@link WindowFile})
 * @param heldOut      held-out windows, in data order (empty when the held-out fraction is 0)
 * @param rows         rows read
 * @param tokens       tokens of all rows
 * @param targetTokens positions that carry loss, over all windows
 */
public record PackedData(List<Window> train, List<Window> heldOut, long rows, long tokens, long targetTokens) {
    public PackedData {
        // windows spilled to a file stay there (an immutable view); copying would read them all into the heap
        train = train instanceof WindowFile.Unbuffered ? train : List.copyOf(train);
        heldOut = heldOut instanceof WindowFile.Unbuffered ? heldOut : List.copyOf(heldOut);
    }
}
