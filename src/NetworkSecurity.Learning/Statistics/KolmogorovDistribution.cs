namespace NetworkSecurity.Learning.Statistics;

/// <summary>
/// The finite-n two-sided Kolmogorov distribution, P(D_n ≥ x), ported from scipy 1.10's <c>kstwo.sf</c>
/// (<c>scipy/stats/_ksstats.py</c>, <c>_kolmogn(n, x, cdf=False)</c>; Simard &amp; L'Ecuyer 2011), and the one-sided
/// Smirnov survival function P(D_n⁺ ≥ x) that it calls (<c>scipy.special.smirnov</c>, cephes).
/// Branches and thresholds are scipy's; arithmetic is double where scipy sometimes carries x87 long double, so the
/// two agree to rounding (see KolmogorovSmirnovTests for the measured agreement).
/// </summary>
internal static class KolmogorovDistribution
{
    private const int E128 = 128;
    private const double MinLog = -708; // _ksstats._MIN_LOG: exp() below this is 0
    private const double CephesMinLog = -7.451332191019412076235E2; // cephes MINLOG as scipy builds it (denormals): log(2^-1075)
    private const double DoubleEpsilon = 2.220446049250313e-16; // C's DBL_EPSILON, 2^-52
    private const int SmirnovMaxComputeN = 1_000_000;
    private const int SmirnovUpperSumMinN = 10;
    private const int SmirnovUpperMaxTerms = 3;

    private static readonly double Ep128 = Math.ScaleB(1.0, E128);
    private static readonly double Em128 = Math.ScaleB(1.0, -E128);
    private static readonly double Sqrt2Pi = Math.Sqrt(2 * Math.PI);
    private static readonly double Log2Pi = Math.Log(2 * Math.PI);
    private static readonly double Sqrt3 = Math.Sqrt(3);
    private static readonly double PiSquared = Math.Pow(Math.PI, 2);
    private static readonly double PiFour = Math.Pow(Math.PI, 4);
    private static readonly double PiSix = Math.Pow(Math.PI, 6);

    // B_{2j}/(2j)/(2j-1) for j = 8..1 (_ksstats._STIRLING_COEFFS), highest power first.
    private static readonly double[] StirlingCoefficients =
    [
        -2.955065359477124183e-2, 6.4102564102564102564e-3, -1.9175269175269175269e-3, 8.4175084175084175084e-4,
        -5.952380952380952381e-4, 7.9365079365079365079e-4, -2.7777777777777777778e-3, 8.3333333333333333333e-2,
    ];

    /// <summary>scipy's <c>kstwo.sf(x, n)</c>: the support check of rv_continuous, then <c>_kolmogn(n, x, cdf=False)</c>.</summary>
    public static double Sf(int n, double x)
    {
        if (n <= 0 || double.IsNaN(x))
        {
            return double.NaN;
        }

        // Support is (0.5/n, 1): sf is 1 at or below it and 0 at or above it.
        if (x <= 0.5 / n)
        {
            return 1.0;
        }

        return x >= 1.0 ? 0.0 : KolmogornSf(n, x);
    }

    /// <summary><c>_kolmogn(n, x, cdf=False)</c>, branch for branch.</summary>
    private static double KolmogornSf(int n, double x)
    {
        if (x >= 1.0)
        {
            return 0.0;
        }

        if (x <= 0.0)
        {
            return 1.0;
        }

        var t = n * x;
        if (t <= 1.0)
        {
            // Ruben–Gambino: 1/2n <= x <= 1/n, cdf = n!/n^n (2t-1)^n.
            if (t <= 0.5)
            {
                return 1.0;
            }

            return Clip(1.0 - RubenGambinoLowCdf(n, t));
        }

        if (t >= n - 1)
        {
            // Ruben–Gambino: sf = 2 (1-x)^n.
            return Clip(2 * Math.Pow(1.0 - x, n));
        }

        if (x >= 0.5)
        {
            // Exact: the two one-sided tails cannot both be crossed.
            return Clip(2 * Smirnov(n, x));
        }

        var nxSquared = t * x;
        if (n <= 140)
        {
            if (nxSquared <= 0.754693)
            {
                return Clip(1.0 - DurbinCdf(n, x));
            }

            if (nxSquared <= 4)
            {
                return Clip(1.0 - PomeranzCdf(n, x));
            }

            // Miller's approximation of the sf by twice the one-sided one.
            return Clip(2 * Smirnov(n, x));
        }

        // scipy gives the sf its own cutoffs on n·x² (they differ from the cdf's).
        if (nxSquared >= 370.0)
        {
            return 0.0;
        }

        if (nxSquared >= 2.2)
        {
            return Clip(2 * Smirnov(n, x));
        }

        double cdf;
        if (nxSquared >= 18.0)
        {
            cdf = 1.0;
        }
        else if (n <= 100_000 && n * Math.Pow(x, 1.5) <= 1.4)
        {
            cdf = DurbinCdf(n, x);
        }
        else
        {
            cdf = PelzGoodCdf(n, x);
        }

        return Clip(1.0 - cdf);
    }

    private static double RubenGambinoLowCdf(int n, double t)
    {
        if (n <= 140)
        {
            var prob = 1.0;
            for (var i = 1; i <= n; i++)
            {
                prob *= i * (1.0 / n) * ((2 * t) - 1);
            }

            return prob;
        }

        return Math.Exp(LogNFactorialOverNPowN(n) + (n * Math.Log((2 * t) - 1)));
    }

    /// <summary>log(n!/n^n) by Stirling's series with n·log(n) removed up front (no cancellation).</summary>
    private static double LogNFactorialOverNPowN(int n)
    {
        var rn = 1.0 / n;
        var poly = 0.0;
        foreach (var c in StirlingCoefficients)
        {
            poly = (poly * (rn / n)) + c;
        }

        return (Math.Log(n) / 2) - n + (Log2Pi / 2) + (rn * poly);
    }

    /// <summary>
    /// P(D_n ≤ d) by Durbin's matrix method in the Marsaglia–Tsang–Wang form (<c>_kolmogn_DMTW</c>): the (k,k) entry of
    /// H^n times n!/n^n, with powers of two split off into an exponent to stay in range.
    /// </summary>
    private static double DurbinCdf(int n, double d)
    {
        if (d >= 1.0)
        {
            return 1.0;
        }

        var nd = n * d;
        if (nd <= 0.5)
        {
            return 0.0;
        }

        var k = (int)Math.Ceiling(nd);
        var h = k - nd;
        var m = (2 * k) - 1;

        // v is H's first column (and, reversed, its last row); w[j] = 1/j! fills the band.
        var v = new double[m];
        var w = new double[m];
        var fac = 1.0;
        for (var j = 1; j <= m; j++)
        {
            v[j - 1] = 1.0 - Math.Pow(h, j);
            w[j - 1] = fac;
            fac /= j;
            v[j - 1] *= fac;
        }

        var tt = Math.Pow(Math.Max((2 * h) - 1.0, 0), m) - (2 * Math.Pow(h, m));
        v[m - 1] = (1.0 + tt) * fac;

        var matrix = new double[m * m];
        for (var i = 1; i < m; i++)
        {
            for (var r = i - 1; r < m; r++)
            {
                matrix[(r * m) + i] = w[r - i + 1];
            }
        }

        for (var r = 0; r < m; r++)
        {
            matrix[r * m] = v[r];
        }

        for (var c = 0; c < m; c++)
        {
            matrix[((m - 1) * m) + c] = v[m - 1 - c];
        }

        var power = new double[m * m];
        for (var i = 0; i < m; i++)
        {
            power[(i * m) + i] = 1.0;
        }

        var scratch = new double[m * m];
        var centre = ((k - 1) * m) + k - 1;
        var exponent = 0;
        var matrixExponent = 0;
        for (var nn = n; nn > 0; nn /= 2)
        {
            if (nn % 2 == 1)
            {
                Multiply(power, matrix, scratch, m);
                (power, scratch) = (scratch, power);
                exponent += matrixExponent;

                // scipy holds this product in long double (range 2^16384); in double it needs its own scaling.
                if (Math.Abs(power[centre]) > Ep128)
                {
                    Scale(power, Em128);
                    exponent += E128;
                }
            }

            if (nn == 1)
            {
                break; // scipy squares once more, but the result is never used.
            }

            Multiply(matrix, matrix, scratch, m);
            (matrix, scratch) = (scratch, matrix);
            matrixExponent *= 2;
            if (Math.Abs(matrix[centre]) > Ep128)
            {
                Scale(matrix, Em128);
                matrixExponent += E128;
            }
        }

        // Multiply by n!/n^n.
        var p = power[centre];
        for (var i = 1; i <= n; i++)
        {
            p = i * p / n;
            if (Math.Abs(p) < Em128)
            {
                p *= Ep128;
                exponent -= E128;
            }
        }

        if (exponent != 0)
        {
            p = Math.ScaleB(p, exponent);
        }

        return Clip(p);
    }

    /// <summary>result = a·b for m×m row-major matrices.</summary>
    private static void Multiply(double[] a, double[] b, double[] result, int m)
    {
        Array.Clear(result);
        for (var i = 0; i < m; i++)
        {
            var row = result.AsSpan(i * m, m);
            for (var l = 0; l < m; l++)
            {
                var ail = a[(i * m) + l];
                if (ail == 0)
                {
                    continue;
                }

                var bRow = b.AsSpan(l * m, m);
                for (var j = 0; j < m; j++)
                {
                    row[j] += ail * bRow[j];
                }
            }
        }
    }

    private static void Scale(double[] values, double factor)
    {
        for (var i = 0; i < values.Length; i++)
        {
            values[i] *= factor;
        }
    }

    /// <summary>
    /// P(D_n ≤ x) by Pomeranz's recursion (<c>_kolmogn_Pomeranz</c>): 2n+1 convolutions of a sliding row with
    /// (almost) Poisson weights, rescaled by 2^128 against underflow, then times n!.
    /// </summary>
    private static double PomeranzCdf(int n, double x)
    {
        var t = n * x;
        var ll = (int)Math.Floor(t);
        var f = 1.0 * (t - ll);
        var g = Math.Min(f, 1.0 - f);
        var ceilf = f > 0 ? 1 : 0;
        var roundf = f > 0.5 ? 1 : 0;
        var npwrs = 2 * (ll + 1);

        // gpower[m] = (g/n)^m/m!, twogpower[m] = (2g/n)^m/m!, onem2gpower[m] = ((1-2g)/n)^m/m!.
        var gpower = new double[npwrs];
        var twogpower = new double[npwrs];
        var onem2gpower = new double[npwrs];
        gpower[0] = twogpower[0] = onem2gpower[0] = 1.0;
        double gOverN = g / n, twoGOverN = 2 * g / n, oneMinusTwoGOverN = (1 - (2 * g)) / n;
        for (var m = 1; m < npwrs; m++)
        {
            gpower[m] = gpower[m - 1] * gOverN / m;
            twogpower[m] = twogpower[m - 1] * twoGOverN / m;
            onem2gpower[m] = onem2gpower[m - 1] * oneMinusTwoGOverN / m;
        }

        var v0 = new double[npwrs];
        var v1 = new double[npwrs];
        v1[0] = 1;
        int v0s = 0, v1s = 0;
        var exponent = 0;

        var (j1, _) = PomeranzBounds(0, n, ll, ceilf, roundf);
        for (var i = 1; i < (2 * n) + 2; i++)
        {
            var k1 = j1;
            (v0, v1) = (v1, v0);
            (v0s, v1s) = (v1s, v0s);
            Array.Clear(v1);
            (j1, var j2) = PomeranzBounds(i, n, ll, ceilf, roundf);
            var pwrs = i == 1 || i == (2 * n) + 1 ? gpower : (i % 2 == 1 ? twogpower : onem2gpower);
            var ln2 = j2 - k1 + 1;
            if (ln2 > 0)
            {
                // V1[:conv_len] = convolve(V0[k1-V0s : k1-V0s+ln2], pwrs[:ln2])[conv_start : conv_start+conv_len]
                var start = k1 - v0s;
                var segmentLength = Math.Min(ln2, npwrs - start);
                var convStart = j1 - k1;
                var convLength = j2 - j1 + 1;
                for (var c = 0; c < convLength; c++)
                {
                    var s = 0.0;
                    var index = convStart + c;
                    for (var a = Math.Max(0, index - ln2 + 1); a <= Math.Min(index, segmentLength - 1); a++)
                    {
                        s += v0[start + a] * pwrs[index - a];
                    }

                    v1[c] = s;
                }

                var max = v1.Max();
                if (max > 0 && max < Em128)
                {
                    Scale(v1, Ep128);
                    exponent -= E128;
                }

                v1s = v0s + j1 - k1;
            }
        }

        // Multiply by n!.
        var ans = v1[n - v1s];
        for (var m = 1; m <= n; m++)
        {
            if (Math.Abs(ans) > Ep128)
            {
                ans *= Em128;
                exponent += E128;
            }

            ans *= m;
        }

        if (exponent != 0)
        {
            ans = Math.ScaleB(ans, exponent);
        }

        return Clip(ans);
    }

    /// <summary>The non-zero index range [j1, j2] of row i in Pomeranz's recursion (<c>_pomeranz_compute_j1j2</c>).</summary>
    private static (int J1, int J2) PomeranzBounds(int i, int n, int ll, int ceilf, int roundf)
    {
        int j1, j2;
        if (i == 0)
        {
            (j1, j2) = (-ll - ceilf - 1, ll + ceilf - 1);
        }
        else
        {
            int ip1div2 = (i + 1) / 2, ip1mod2 = (i + 1) % 2;
            if (ip1mod2 == 0)
            {
                (j1, j2) = ip1div2 == n + 1
                    ? (n - ll - ceilf - 1, n + ll + ceilf - 1)
                    : (ip1div2 - 1 - ll - roundf - 1, ip1div2 + ll - 1 + ceilf - 1);
            }
            else
            {
                (j1, j2) = (ip1div2 - 1 - ll - 1, ip1div2 + ll + roundf - 1);
            }
        }

        return (Math.Max(j1 + 2, 0), Math.Min(j2, n));
    }

    /// <summary>
    /// The Pelz–Good approximation of P(D_n ≤ x) (<c>_kolmogn_PelzGood</c>): the Li-Chien/Korolyuk expansion
    /// K0 + K1/√n + K2/n + K3/n^1.5 in z = x√n, with each K rewritten through Jacobi theta functions for small z.
    /// </summary>
    private static double PelzGoodCdf(int n, double x)
    {
        if (x <= 0.0)
        {
            return 0.0;
        }

        if (x >= 1.0)
        {
            return 1.0;
        }

        var z = Math.Sqrt(n) * x;
        double zSquared = Math.Pow(z, 2), zThree = Math.Pow(z, 3), zFour = Math.Pow(z, 4), zSix = Math.Pow(z, 6);

        var qlog = -PiSquared / 8 / zSquared;
        if (qlog < MinLog)
        {
            return 0.0;
        }

        var q = Math.Exp(qlog);

        var k1a = -zSquared;
        var k1b = PiSquared / 4;
        var k2a = (6 * zSix) + (2 * zFour);
        var k2b = ((2 * zFour) - (5 * zSquared)) * PiSquared / 4;
        var k2c = PiFour * (1 - (2 * zSquared)) / 16;
        var k3d = PiSix * (5 - (30 * zSquared)) / 64;
        var k3c = PiFour * ((-60 * zSquared) + (212 * zFour)) / 16;
        var k3b = PiSquared * ((135 * zFour) - (96 * zSix)) / 4;
        var k3a = (-30 * zSix) - (90 * Math.Pow(z, 8));

        // Horner in q^8 over the odd terms (2k-1)².
        double k0 = 0, kk1 = 0, kk2 = 0, kk3 = 0;
        var maxk = (int)Math.Ceiling(16 * z / Math.PI);
        for (var k = maxk; k > 0; k--)
        {
            double m = (2 * k) - 1;
            double mSquared = m * m, mFour = mSquared * mSquared, mSix = mFour * mSquared;
            var qPower = Math.Pow(q, 8 * k);
            k0 = (k0 * qPower) + 1.0;
            kk1 = (kk1 * qPower) + (k1a + (k1b * mSquared));
            kk2 = (kk2 * qPower) + (k2a + (k2b * mSquared) + (k2c * mFour));
            kk3 = (kk3 * qPower) + (k3a + (k3b * mSquared) + (k3c * mFour) + (k3d * mSix));
        }

        k0 = k0 * q * Sqrt2Pi / z;
        kk1 = kk1 * q * Sqrt2Pi / (6 * zFour);
        kk2 = kk2 * q * Sqrt2Pi / (72 * Math.Pow(z, 7));
        kk3 = kk3 * q * Sqrt2Pi / (6480 * Math.Pow(z, 10));

        // The other sums, over all k: K2 gets (π²k²) q^(k²), K3 gets (3π²k²z² - π⁴k⁴) q^(k²).
        q = Math.Exp(-PiSquared / 2 / zSquared);
        var sqrt3z = Sqrt3 * z;
        double k2Extra = 0, k3Extra = 0;
        for (var k = maxk; k > 0; k--)
        {
            double kSquared = (double)k * k;
            var kPi = Math.PI * k;
            var qPower = Math.Pow(q, kSquared);
            k2Extra += kSquared * qPower;
            k3Extra += (sqrt3z + kPi) * (sqrt3z - kPi) * kSquared * qPower;
        }

        kk2 += k2Extra * (PiSquared * Sqrt2Pi / (-36 * zThree));
        kk3 += k3Extra * (PiSquared * Sqrt2Pi / (216 * zSix));

        return 0 + k0 + (kk1 / Math.Pow(n, 0.5)) + (kk2 / Math.Pow(n, 1.0)) + (kk3 / Math.Pow(n, 1.5));
    }

    /// <summary>
    /// The one-sided Smirnov sf P(D_n⁺ ≥ x), as scipy.special.smirnov (cephes): closed forms at the edges, Miller's
    /// approximation above n = 10⁶, otherwise the Birnbaum–Tingey sum
    /// x·Σ_{j=0}^{⌊n(1−x)⌋} C(n,j) (1−x−j/n)^{n−j} (x+j/n)^{j−1} (or, for n·x &lt; 3 and x ≤ 0.5/√n, one minus the
    /// few-term alternating upper sum). cephes works in double-double; here each term is an exp of a sum of logs
    /// built from exact pieces (n·x split into integer and fraction), which keeps the terms to ~1e-13 relative.
    /// </summary>
    public static double Smirnov(int n, double x)
    {
        if (!(n > 0 && x >= 0.0 && x <= 1.0))
        {
            return double.NaN;
        }

        if (n == 1)
        {
            return 1 - x;
        }

        if (x == 0.0)
        {
            return 1.0;
        }

        if (x == 1.0)
        {
            return 0.0;
        }

        // n·x exactly as hi + lo, then split into floor and fraction alpha ∈ [0, 1).
        var nxHi = n * x;
        var nxLo = Math.FusedMultiplyAdd(n, x, -nxHi);
        var nxFloor = Math.Floor(nxHi);
        if (nxFloor == nxHi && nxLo < 0)
        {
            nxFloor -= 1;
        }

        var alpha = (nxHi - nxFloor) + nxLo;
        if (alpha >= 1)
        {
            nxFloor += 1;
            alpha = 0;
        }

        var nxfl = (int)nxFloor;

        // x ≤ 1/n: sf = 1 - x(1+x)^(n-1).
        if (nxfl == 0 || (nxfl == 1 && alpha == 0))
        {
            return 1 - (x * Math.Exp((n - 1) * Log1p(x)));
        }

        // The sf underflows.
        if (-2 * n * x * x < CephesMinLog)
        {
            return 0.0;
        }

        // x ≥ 1 - 1/n: sf = (1-x)^n (1-x is exact here).
        if (nxfl >= n - 1)
        {
            return Math.Pow(1 - x, n);
        }

        if (n > SmirnovMaxComputeN)
        {
            // Miller: p ~ exp(-(6nx+1)²/18n). (cephes returns 1 - (-expm1(logp)) above 1/2, equal to rounding.)
            return Math.Exp(-Math.Pow((6.0 * n * x) + 1, 2) / 18.0 / n);
        }

        var nUpperTerms = nxfl + (alpha == 0 ? 0 : 1);
        var useUpperSum = n >= SmirnovUpperSumMinN && nUpperTerms <= SmirnovUpperMaxTerms && x <= 0.5 / Math.Sqrt(n);
        return useUpperSum ? 1 - SmirnovUpperSum(n, x, nxfl, alpha, nUpperTerms) : SmirnovLowerSum(n, x, nxfl, alpha);
    }

    /// <summary>
    /// x·Σ_{j=0}^{n-⌊nx⌋-1} A_j, all terms positive; stops once the rest cannot matter (as cephes does). The terms are
    /// summed relative to the largest so far (their logs reach ±thousands), so a result near the bottom of the double
    /// range is not lost to terms underflowing one by one.
    /// </summary>
    private static double SmirnovLowerSum(int n, double x, int nxfl, double alpha)
    {
        var nTerms = n - nxfl;
        var vmid = n / 2;
        var logScale = (n * Log1p(-x)) - Math.Log(x); // A_0 = (1-x)^n / x
        double sum = 1, compensation = 0;
        double logBinomial = 0, logBinomialCompensation = 0;
        for (var j = 1; j < nTerms; j++)
        {
            NeumaierAdd(ref logBinomial, ref logBinomialCompensation, Math.Log((double)(n - j + 1) / j));

            // x + j/n = (j + ⌊nx⌋ + alpha)/n and 1 - x - j/n = (n - j - ⌊nx⌋ - alpha)/n, each from exact integers.
            var upper = (j + nxfl + alpha) / n;
            var lower = (n - j - nxfl - alpha) / n;
            var logLower = upper < 0.5 ? Log1p(-upper) : Math.Log(lower);
            var logTerm = logBinomial + logBinomialCompensation + ((n - j) * logLower) + ((j - 1) * Math.Log(upper));
            if (logTerm > logScale)
            {
                var factor = Math.Exp(logScale - logTerm);
                sum *= factor;
                compensation *= factor;
                logScale = logTerm;
            }

            var term = Math.Exp(logTerm - logScale);
            if (term != 0)
            {
                NeumaierAdd(ref sum, ref compensation, term);
                if (4.0 * (nTerms - j) * term < DoubleEpsilon * (sum + compensation) && j != nTerms - 1)
                {
                    break;
                }
            }
            else if (j > vmid)
            {
                break;
            }
        }

        // x·sum·e^logScale, with e^logScale split by 2^-600 when it would be subnormal on its own.
        var total = x * (sum + compensation);
        var result = logScale > -700 ? total * Math.Exp(logScale) : Math.ScaleB(total * Math.Exp(logScale + (600 * Math.Log(2))), -600);
        return Clip(result);
    }

    /// <summary>x·Σ_{v=n-j, j&lt;terms} A_v (the cdf) for a few terms; they alternate in sign.</summary>
    private static double SmirnovUpperSum(int n, double x, int nxfl, double alpha, int terms)
    {
        var sum = Math.Exp((n - 1) * Log1p(x));
        var binomial = 1.0;
        for (var j = 1; j < terms; j++)
        {
            var v = n - j;
            binomial = binomial * (v + 1) / j;

            // 1 - x - v/n = (j - ⌊nx⌋ - alpha)/n is negative here; it is raised to the integer power j.
            var lower = (j - nxfl - alpha) / n;
            var upper = (v + nxfl + alpha) / n;
            sum += binomial * Math.Pow(lower, j) * Math.Exp((v - 1) * Math.Log(upper));
        }

        return Clip(x * sum);
    }

    private static void NeumaierAdd(ref double sum, ref double compensation, double value)
    {
        var t = sum + value;
        compensation += Math.Abs(sum) >= Math.Abs(value) ? (sum - t) + value : (value - t) + sum;
        sum = t;
    }

    /// <summary>log(1+y) to a few ulps (.NET has no log1p): the rounding of 1+y is undone by the ratio y/(u-1).</summary>
    private static double Log1p(double y)
    {
        var u = 1.0 + y;
        return u == 1.0 ? y : Math.Log(u) * y / (u - 1.0);
    }

    private static double Clip(double p) => Math.Clamp(p, 0.0, 1.0);
}
