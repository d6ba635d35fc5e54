namespace NetworkSecurity.Learning.Trees;

/// <summary>Per-bin sums of two statistics and a row count, for every feature of a binned data set (flat arrays).</summary>
internal sealed class Histogram
{
    // Rows per chunk when building in parallel. Fixed, so the summation order (and the result) does not depend on
    // the number of threads.
    private const int ChunkRows = 4096;

    public Histogram(int totalBins)
    {
        A = new double[totalBins];
        B = new double[totalBins];
        Count = new int[totalBins];
    }

    public double[] A { get; }

    public double[] B { get; }

    public int[] Count { get; }

    /// <summary>Fills this histogram with rows[start..end) of <paramref name="data"/> weighted by a and b.</summary>
    public void Build(BinnedDataset data, int[] rows, int start, int end, double[] a, double[] b)
    {
        var n = end - start;
        if (n < 2 * ChunkRows)
        {
            Clear();
            Accumulate(this, data, rows, start, end, a, b);
            return;
        }

        var chunks = (n + ChunkRows - 1) / ChunkRows;
        var partial = new Histogram[chunks];
        Parallel.For(0, chunks, c =>
        {
            var h = new Histogram(A.Length);
            Accumulate(h, data, rows, start + (c * ChunkRows), Math.Min(end, start + ((c + 1) * ChunkRows)), a, b);
            partial[c] = h;
        });
        Clear();
        foreach (var h in partial)
        {
            for (var i = 0; i < A.Length; i++)
            {
                A[i] += h.A[i];
                B[i] += h.B[i];
                Count[i] += h.Count[i];
            }
        }
    }

    private static void Accumulate(Histogram target, BinnedDataset data, int[] rows, int start, int end, double[] a, double[] b)
    {
        var bins = data.Bins;
        var offsets = data.Offsets;
        var columns = data.Columns;
        var ha = target.A;
        var hb = target.B;
        var hc = target.Count;
        for (var i = start; i < end; i++)
        {
            var row = rows[i];
            var va = a[row];
            var vb = b[row];
            var baseIndex = row * columns;
            for (var f = 0; f < columns; f++)
            {
                var index = offsets[f] + bins[baseIndex + f];
                ha[index] += va;
                hb[index] += vb;
                hc[index]++;
            }
        }
    }

    /// <summary>this = parent - sibling (the histogram subtraction trick).</summary>
    public void Subtract(Histogram parent, Histogram sibling)
    {
        for (var i = 0; i < A.Length; i++)
        {
            A[i] = parent.A[i] - sibling.A[i];
            B[i] = parent.B[i] - sibling.B[i];
            Count[i] = parent.Count[i] - sibling.Count[i];
        }
    }

    private void Clear()
    {
        Array.Clear(A);
        Array.Clear(B);
        Array.Clear(Count);
    }
}
