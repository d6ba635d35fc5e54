namespace NetworkSecurity.Learning.Statistics;

public enum KsMethod
{
    Exact,
    Asymptotic,
}

public sealed record KsResult(double Statistic, double PValue, KsMethod Method);

/// <summary>
/// Two-sample Kolmogorov–Smirnov test, two-sided, as scipy's <c>ks_2samp(method="auto")</c>: the exact distribution
/// when the larger sample has at most 10,000 values (Hodges' lattice-path count, in the numerically stable form of
/// Viehmann 2021 that scipy uses), otherwise scipy's "asymptotic" method, which is the finite-n two-sided Kolmogorov
/// distribution kstwo at n = round(n1·n2/(n1+n2)) (see <see cref="KolmogorovDistribution"/>).
/// </summary>
public static class KolmogorovSmirnov
{
    public const int MaxExactSize = 10_000;

    public static KsResult TwoSample(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        if (a.Length == 0 || b.Length == 0)
        {
            throw new ArgumentException("Both samples must contain at least one value.");
        }

        // NaN compares false with everything: the walk over both samples stopped advancing and never ended.
        CheckNotMissing(a, nameof(a));
        CheckNotMissing(b, nameof(b));

        var x = a.ToArray();
        var y = b.ToArray();
        Array.Sort(x);
        Array.Sort(y);
        var d = Statistic(x, y);
        int n1 = x.Length, n2 = y.Length;

        if (Math.Max(n1, n2) <= MaxExactSize && TryExact(n1, n2, d, out var exactD, out var p))
        {
            return new KsResult(exactD, Math.Clamp(p, 0, 1), KsMethod.Exact);
        }

        return new KsResult(d, Asymptotic(n1, n2, d), KsMethod.Asymptotic);
    }

    private static void CheckNotMissing(ReadOnlySpan<double> sample, string name)
    {
        for (var i = 0; i < sample.Length; i++)
        {
            if (double.IsNaN(sample[i]))
            {
                throw new ArgumentException($"{name}[{i}] is NaN; leave missing values out of the samples.", name);
            }
        }
    }

    /// <summary>max |F1(t) - F2(t)| over all observed t, walking both sorted samples once.</summary>
    private static double Statistic(double[] x, double[] y)
    {
        int i = 0, j = 0;
        double d = 0;
        while (i < x.Length && j < y.Length)
        {
            var t = Math.Min(x[i], y[j]);
            while (i < x.Length && x[i] <= t)
            {
                i++;
            }

            while (j < y.Length && y[j] <= t)
            {
                j++;
            }

            d = Math.Max(d, Math.Abs(((double)i / x.Length) - ((double)j / y.Length)));
        }

        return d;
    }

    private static bool TryExact(int n1, int n2, double d, out double statistic, out double p)
    {
        var g = Gcd(n1, n2);
        var lcm = (long)(n1 / g) * n2;
        var h = (long)Math.Round(d * lcm, MidpointRounding.ToEven);
        statistic = (double)h / lcm;
        if (h == 0)
        {
            p = 1.0;
            return true;
        }

        p = n1 == n2 ? ProbabilityOutsideSquare(n1, h) : OuterProbabilityInside(n1, n2, g, h);
        return double.IsFinite(p) && p >= 0 && p <= 1;
    }

    /// <summary>P(D_{n,n} ≥ h/n) (scipy's _compute_prob_outside_square).</summary>
    private static double ProbabilityOutsideSquare(long n, long h)
    {
        double total = 0;
        for (var k = n / h; k >= 0; k--)
        {
            double term = 1;
            for (long j = 0; j < h; j++)
            {
                term = (n - (k * h) - j) * term / (n + (k * h) + j + 1);
            }

            total = term * (1.0 - total);
        }

        return 2 * total;
    }

    /// <summary>
    /// Proportion of lattice paths from (0,0) to (m,n) that leave the band |x/m - y/n| &lt; h/lcm(m,n)
    /// (scipy's _compute_outer_prob_inside_method: one sliding column, computing 1 - p directly).
    /// </summary>
    private static double OuterProbabilityInside(int m, int n, int g, long h)
    {
        if (m < n)
        {
            (m, n) = (n, m);
        }

        long mg = m / g, ng = n / g;
        var minj = 0L;
        var maxj = Math.Min((long)Math.Ceiling((double)h / mg), n + 1);
        var curlen = maxj - minj;
        var lenA = (int)Math.Min((2 * maxj) + 2, n + 1);
        var column = new double[lenA];
        Array.Fill(column, 1.0);
        Array.Fill(column, 0.0, 0, (int)Math.Min(maxj, lenA));
        for (long i = 1; i <= m; i++)
        {
            var lastminj = minj;
            var lastlen = curlen;
            minj = Math.Max((long)Math.Floor((double)((ng * i) - h) / mg) + 1, 0);
            minj = Math.Min(minj, n);
            maxj = Math.Min((long)Math.Ceiling((double)((ng * i) + h) / mg), n + 1);
            if (maxj <= minj)
            {
                return 1.0;
            }

            var value = minj == 0 ? 0.0 : 1.0;
            for (long jj = 0; jj < maxj - minj; jj++)
            {
                var j = jj + minj;
                value = ((column[jj + minj - lastminj] * i) + (value * j)) / (i + j);
                column[jj] = value;
            }

            curlen = maxj - minj;
            if (lastlen > curlen)
            {
                Array.Fill(column, 1.0, (int)(maxj - minj), (int)Math.Min(lastlen - curlen, lenA - (maxj - minj)));
            }
        }

        return column[maxj - minj - 1];
    }

    /// <summary>
    /// scipy's asymptotic path: <c>kstwo.sf(D, round(en))</c> with en = n1·n2/(n1+n2), i.e. the finite-n two-sided
    /// Kolmogorov distribution at the effective size (not the n → ∞ limit, which is off by up to ~1 % here).
    /// </summary>
    private static double Asymptotic(int n1, int n2, double d)
    {
        double m = Math.Max(n1, n2), n = Math.Min(n1, n2);
        var en = m * n / (m + n);
        return Math.Clamp(KolmogorovDistribution.Sf((int)Math.Round(en, MidpointRounding.ToEven), d), 0, 1);
    }

    private static int Gcd(int a, int b)
    {
        while (b != 0)
        {
            (a, b) = (b, a % b);
        }

        return a;
    }
}
