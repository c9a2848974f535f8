package bertj.kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

import bertj.kernels.reference.ReferenceKernels;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Attention.forward against its scalar twin. Probabilities within 1e-5 absolute (the float scores of a
 * d-term dot product with |q|, |k| <= 1 are within about d * 6e-8 of the exact ones, and a softmax moves by
 * at most that much); outputs within {@code 1e-5 (1 + max |v|)} (a convex combination of value rows).
 */
class AttentionTest {
    @Test
    void shapesHeadSizesAndPadding() {
        try (ThreadPool pool = new ThreadPool(2)) {
            int[][] shapes = { // batch, seqLen, heads, headSize
                {1, 1, 1, 8}, {2, 5, 2, 24}, {3, 17, 3, 32}, {2, 33, 2, 64}, {1, 7, 4, 3}, {2, 40, 1, 17},
                {1, 129, 2, 64}, {2, 16, 12, 32}, {1, 31, 2, 48}
            };
            long seed = 0;
            for (int[] shape : shapes) {
                check(pool, shape[0], shape[1], shape[2], shape[3], true, seed++);
                check(pool, shape[0], shape[1], shape[2], shape[3], false, seed++);
            }
        }
    }

    @Test
    void singleThreadedPoolGivesTheSameAnswer() {
        try (ThreadPool pool = new ThreadPool(1)) {
            check(pool, 2, 19, 3, 16, true, 99);
        }
    }

    @Test
    void sequenceMaskedEverywhereAttendsUniformly() {
        try (Arena arena = Arena.ofShared(); ThreadPool pool = new ThreadPool(2)) {
            int seqLen = 5;
            int headSize = 4;
            MemorySegment qkv = TestData.uniform(arena, new Random(5), (long) seqLen * 3 * headSize, -1, 1);
            int[] mask = new int[seqLen]; // every key masked
            MemorySegment out = TestData.zeros(arena, (long) seqLen * headSize);
            MemorySegment probs = TestData.zeros(arena, (long) seqLen * seqLen);
            Attention.forward(pool, qkv, 1, seqLen, 1, headSize, mask, out, probs);
            for (int i = 0; i < seqLen * seqLen; i++) {
                assertEquals(1f / seqLen, TestData.get(probs, i), 1e-7f);
            }
            for (int c = 0; c < headSize; c++) {
                double mean = 0;
                for (int j = 0; j < seqLen; j++) {
                    mean += TestData.get(qkv, (long) j * 3 * headSize + 2 * headSize + c) / seqLen;
                }
                for (int i = 0; i < seqLen; i++) {
                    assertEquals(mean, TestData.get(out, (long) i * headSize + c), 1e-6);
                }
            }
        }
    }

    @Test
    void rejectsShortBuffersByName() {
        try (Arena arena = Arena.ofShared(); ThreadPool pool = new ThreadPool(1)) {
            MemorySegment qkv = TestData.zeros(arena, 2 * 3 * 8);
            MemorySegment out = TestData.zeros(arena, 2 * 8);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> Attention.forward(pool, qkv, 1, 2, 2, 4, null, TestData.zeros(arena, 15), null));
            LinearTest.assertContains(e.getMessage(), "out has 15 floats");
            e = assertThrows(IllegalArgumentException.class,
                    () -> Attention.forward(pool, qkv, 1, 2, 2, 4, new int[1], out, null));
            LinearTest.assertContains(e.getMessage(), "attentionMask");
            e = assertThrows(IllegalArgumentException.class,
                    () -> Attention.forward(pool, qkv, 1, 2, 2, 4, null, out, TestData.zeros(arena, 7)));
            LinearTest.assertContains(e.getMessage(), "probsOrNull");
        }
    }

    private static void check(ThreadPool pool, int batch, int seqLen, int heads, int headSize, boolean padded,
            long seed) {
        try (Arena arena = Arena.ofShared()) {
            Random random = new Random(seed);
            int hidden = heads * headSize;
            long tokens = (long) batch * seqLen;
            MemorySegment qkv = TestData.uniform(arena, random, tokens * 3 * hidden, -1, 1);
            int[] mask = null;
            if (padded) {
                // Sequence b has seqLen - b real tokens (at least one), the rest masked as Hugging Face does.
                mask = new int[(int) tokens];
                java.util.Arrays.fill(mask, 1);
                for (int b = 0; b < batch; b++) {
                    for (int j = Math.max(1, seqLen - b); j < seqLen; j++) {
                        mask[b * seqLen + j] = 0;
                    }
                }
            }
            MemorySegment out = TestData.uniform(arena, random, tokens * hidden, 50, 60);
            MemorySegment probs = TestData.zeros(arena, tokens * heads * seqLen);
            MemorySegment expectedOut = TestData.zeros(arena, tokens * hidden);
            MemorySegment expectedProbs = TestData.zeros(arena, tokens * heads * seqLen);
            Attention.forward(pool, qkv, batch, seqLen, heads, headSize, mask, out, probs);
            ReferenceKernels.attention(qkv, batch, seqLen, heads, headSize, mask, expectedOut, expectedProbs);
            String shape = "batch=" + batch + " seqLen=" + seqLen + " heads=" + heads + " headSize=" + headSize
                    + " padded=" + padded;
            for (long i = 0; i < tokens * heads * seqLen; i++) {
                float want = TestData.get(expectedProbs, i);
                float got = TestData.get(probs, i);
                if (!(Math.abs(want - got) <= 1e-5)) {
                    fail(shape + " probs[" + i + "] = " + got + ", expected " + want);
                }
                int sequence = (int) (i / ((long) heads * seqLen * seqLen));
                if (padded && want != 0 && isPaddingKey(mask, sequence, (int) (i % seqLen), seqLen)) {
                    fail(shape + " padding key got probability " + want);
                }
            }
            MemorySegment vector = out;
            // Without probs the kernel takes the same path; check it writes the same output too.
            MemorySegment outNoProbs = TestData.zeros(arena, tokens * hidden);
            Attention.forward(pool, qkv, batch, seqLen, heads, headSize, mask, outNoProbs, null);
            for (long i = 0; i < tokens * hidden; i++) {
                float want = TestData.get(expectedOut, i);
                float got = TestData.get(vector, i);
                if (!(Math.abs(want - got) <= 2e-5)) { // 1e-5 (1 + max|v|), |v| <= 1
                    fail(shape + " out[" + i / hidden + ", " + i % hidden + "] = " + got + ", expected " + want);
                }
                assertEquals(got, TestData.get(outNoProbs, i), 0f, shape + " with and without probs");
            }
        }
    }

    private static boolean isPaddingKey(int[] mask, int b, int key, int seqLen) {
        return mask[b * seqLen + key] == 0;
    }
}
