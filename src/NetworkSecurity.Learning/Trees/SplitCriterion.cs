namespace NetworkSecurity.Learning.Trees;

/// <summary>
/// How a tree grower scores a split from per-side sums (A, B, count) and what a leaf outputs.
/// Gradient boosting sums (gradient, hessian); classification trees sum (weight of class 1, weight).
/// </summary>
internal abstract class SplitCriterion
{
    /// <summary>Gain of splitting the parent into left and right; ≤ 0 or NaN when not worth it.</summary>
    public abstract double Gain(double aLeft, double bLeft, double aRight, double bRight, double aParent, double bParent);

    public abstract double LeafValue(double a, double b);

    /// <summary>Smallest allowed B on either side (minimum hessian or weight).</summary>
    public virtual double MinB => 0;
}

/// <summary>Second-order boosting gain: G²/(H+λ) per side minus the parent's; leaf = -G/(H+λ)·shrinkage.</summary>
internal sealed class GradientCriterion(double l2, double minChildWeight, double shrinkage) : SplitCriterion
{
    public override double MinB => minChildWeight;

    public override double Gain(double aLeft, double bLeft, double aRight, double bRight, double aParent, double bParent) =>
        (aLeft * aLeft / (bLeft + l2)) + (aRight * aRight / (bRight + l2)) - (aParent * aParent / (bParent + l2));

    public override double LeafValue(double a, double b) => -a / (b + l2) * shrinkage;
}

/// <summary>Weighted impurity decrease (Gini or entropy) of a classification split; leaf = share of class 1.</summary>
internal sealed class ImpurityCriterion(bool entropy) : SplitCriterion
{
    public override double MinB => 1e-12;

    public override double Gain(double aLeft, double bLeft, double aRight, double bRight, double aParent, double bParent) =>
        (bParent * Impurity(aParent, bParent)) - (bLeft * Impurity(aLeft, bLeft)) - (bRight * Impurity(aRight, bRight));

    public override double LeafValue(double a, double b) => b <= 0 ? 0.5 : a / b;

    private double Impurity(double positive, double total)
    {
        if (total <= 0)
        {
            return 0;
        }

        var p = Math.Clamp(positive / total, 0, 1);
        if (!entropy)
        {
            return 2 * p * (1 - p);
        }

        return (p <= 0 || p >= 1) ? 0 : -((p * Math.Log2(p)) + ((1 - p) * Math.Log2(1 - p)));
    }
}
