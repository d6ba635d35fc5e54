using NetworkSecurity.Learning.Models;
using NetworkSecurity.Learning.Trees;

namespace NetworkSecurity.Learning.Tests;

public sealed class FlatTreeTests
{
    [Fact]
    public void A_hand_built_tree_whose_children_do_not_follow_their_parent_is_refused()
    {
        // Before: a node pointing back at itself made Predict loop forever for rows going left; a child past the end
        // was an IndexOutOfRangeException for the rows that reached it. The file reader already refused both.
        TreeNode[] loop = [new(0.5, 0, 0), new(0.1, -1, 0), new(0.9, -1, 0)];
        var ex = Assert.Throws<ArgumentException>(() => new FlatTree(loop));
        Assert.Contains("Node 0 sends rows to nodes 0 and 1", ex.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new FlatTree([new(0.5, 0, 2), new(0.1, -1, 0), new(0.9, -1, 0)]));

        var stump = new DecisionTreeModel(1, new FlatTree([new(0.5, 0, 1), new(0.1, -1, 0), new(0.9, -1, 0)]));
        Assert.Equal(0.1, stump.PredictProbability([0.0]));
        Assert.Equal(0.9, stump.PredictProbability([1.0]));
    }
}
