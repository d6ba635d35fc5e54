using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace NetworkSecurity.Learning.Trees;

/// <summary>One histogram bin: sums of two statistics and of the row count.</summary>
internal struct HistogramBin
{
    public double A;
    public double B;
    public long Count;
}

/// <summary>Per-bin sums for every feature of a binned data set, in one flat array (the whole thing fits in L1 here).</summary>
internal sealed class Histogram(int totalBins)
{
    // Items per chunk when building in parallel. Fixed, so the summation order (and the result) does not depend on
    // the number of threads.
    private const int ChunkItems = 4096;

    public HistogramBin[] Bins { get; } = new HistogramBin[totalBins];

    /// <summary>Fills this histogram with the distinct rows items[start..end), with statistics a, b and counts.</summary>
    /// <param name="counts">Rows per distinct row; null when the learner needs no row counts (they are left at 0).</param>
    public void Build(BinnedDataset data, int[] items, int start, int end, double[] a, double[] b, int[]? counts)
    {
        var n = end - start;
        if (n < 2 * ChunkItems)
        {
            Array.Clear(Bins);
            Accumulate(Bins, data, items, start, end, a, b, counts);
            return;
        }

        var chunks = (n + ChunkItems - 1) / ChunkItems;
        var partial = new HistogramBin[chunks][];
        Parallel.For(0, chunks, c =>
        {
            var bins = new HistogramBin[Bins.Length];
            Accumulate(bins, data, items, start + (c * ChunkItems), Math.Min(end, start + ((c + 1) * ChunkItems)), a, b, counts);
            partial[c] = bins;
        });
        Array.Clear(Bins);
        foreach (var bins in partial)
        {
            for (var i = 0; i < Bins.Length; i++)
            {
                Bins[i].A += bins[i].A;
                Bins[i].B += bins[i].B;
                Bins[i].Count += bins[i].Count;
            }
        }
    }

    // Rows alternate between this many private copies of the histogram: consecutive rows often hit the same bin,
    // and one copy would make every add wait for the previous one.
    private const int Lanes = 4;

    [ThreadStatic]
    private static HistogramBin[]? t_lanes;

    // The hot loop of every tree learner: bounds checks removed by hand (indices come from the binner).
    private static void Accumulate(HistogramBin[] target, BinnedDataset data, int[] items, int start, int end, double[] a, double[] b, int[]? counts)
    {
        if (end - start < SmallNode)
        {
            AccumulateDirect(target, data, items, start, end, a, b, counts);
            return;
        }

        var total = data.JointCells;
        var lanes = t_lanes is { } cached && cached.Length == total * Lanes ? cached : t_lanes = new HistogramBin[total * Lanes];
        Array.Clear(lanes);
        var columns = data.GroupCount;
        ref var cells = ref MemoryMarshal.GetArrayDataReference(data.JointIndex);
        ref var itemRef = ref MemoryMarshal.GetArrayDataReference(items);
        ref var aRef = ref MemoryMarshal.GetArrayDataReference(a);
        ref var bRef = ref MemoryMarshal.GetArrayDataReference(b);
        ref var lane0 = ref MemoryMarshal.GetArrayDataReference(lanes);
        if (counts is null)
        {
            for (var i = start; i < end; i++)
            {
                var item = Unsafe.Add(ref itemRef, i);
                var va = Unsafe.Add(ref aRef, item);
                var vb = Unsafe.Add(ref bRef, item);
                ref var row = ref Unsafe.Add(ref cells, item * columns);
                ref var hist = ref Unsafe.Add(ref lane0, (i & (Lanes - 1)) * total);
                for (var f = 0; f < columns; f++)
                {
                    ref var bin = ref Unsafe.Add(ref hist, Unsafe.Add(ref row, f));
                    bin.A += va;
                    bin.B += vb;
                }
            }
        }
        else
        {
            ref var countRef = ref MemoryMarshal.GetArrayDataReference(counts);
            for (var i = start; i < end; i++)
            {
                var item = Unsafe.Add(ref itemRef, i);
                var va = Unsafe.Add(ref aRef, item);
                var vb = Unsafe.Add(ref bRef, item);
                long vc = Unsafe.Add(ref countRef, item);
                ref var row = ref Unsafe.Add(ref cells, item * columns);
                ref var hist = ref Unsafe.Add(ref lane0, (i & (Lanes - 1)) * total);
                for (var f = 0; f < columns; f++)
                {
                    ref var bin = ref Unsafe.Add(ref hist, Unsafe.Add(ref row, f));
                    bin.A += va;
                    bin.B += vb;
                    bin.Count += vc;
                }
            }
        }

        // Sum the lanes, then spread each joint cell over the per-feature bins it stands for.
        var starts = data.JointToBinsStart;
        var bins = data.JointToBins;
        for (var k = 0; k < total; k++)
        {
            var cell = lanes[k];
            for (var lane = 1; lane < Lanes; lane++)
            {
                ref readonly var source = ref lanes[(lane * total) + k];
                cell.A += source.A;
                cell.B += source.B;
                cell.Count += source.Count;
            }

            if (cell.B == 0 && cell.Count == 0 && cell.A == 0)
            {
                continue;
            }

            for (var i = starts[k]; i < starts[k + 1]; i++)
            {
                ref var bin = ref target[bins[i]];
                bin.A += cell.A;
                bin.B += cell.B;
                bin.Count += cell.Count;
            }
        }
    }

    // Below this many rows a node is histogrammed feature by feature, skipping the joint histogram's fixed costs.
    private const int SmallNode = 256;

    private static void AccumulateDirect(HistogramBin[] target, BinnedDataset data, int[] items, int start, int end, double[] a, double[] b, int[]? counts)
    {
        var columns = data.Columns;
        var cells = data.HistogramIndex;
        for (var i = start; i < end; i++)
        {
            var item = items[i];
            var va = a[item];
            var vb = b[item];
            long vc = counts?[item] ?? 0;
            var row = cells.AsSpan(item * columns, columns);
            foreach (var cell in row)
            {
                ref var bin = ref target[cell];
                bin.A += va;
                bin.B += vb;
                bin.Count += vc;
            }
        }
    }

    /// <summary>this = parent - sibling (the histogram subtraction trick); this may be the parent itself.</summary>
    public void Subtract(Histogram parent, Histogram sibling)
    {
        for (var i = 0; i < Bins.Length; i++)
        {
            Bins[i].A = parent.Bins[i].A - sibling.Bins[i].A;
            Bins[i].B = parent.Bins[i].B - sibling.Bins[i].B;
            Bins[i].Count = parent.Bins[i].Count - sibling.Bins[i].Count;
        }
    }
}
