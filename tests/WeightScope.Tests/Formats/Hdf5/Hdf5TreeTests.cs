using Xunit;

namespace WeightScope.Tests.Formats.Hdf5;

public class Hdf5TreeTests
{
    [Fact]
    public void The_tree_from_names_follows_hdf5_groups()
    {
        using var m = ModelFile.Open(TestPaths.Fixture("hdf5", "mixed_earliest.h5"));
        var groups = m.Tensors.Select(t => t.Name.Split('/')[0]).Distinct().ToList();
        Assert.Contains(m.Tensors, t => t.Name.Contains('/'));
        // top-level groups become children, top-level datasets the root's own tensors
        Assert.Equal(groups.Order(), m.Modules.Children.Select(c => c.Name).Concat(m.Modules.Parameters.Keys).Order());
        Assert.DoesNotContain(m.Modules.Children, c => c.Name.Contains('/'));
    }
}
