using System.Globalization;
using WeightScope.Analysis;
using WeightScope.Plotting;
using WeightScope.TorchSharp;
using static TorchSharp.torch;

namespace Tutorials;

/// <summary>
/// Second tutorial, on a live module: the <c>state_dict()</c> listing, <c>param.zero_()</c> under
/// <c>torch.no_grad()</c>, the weights saved with <c>np.savez</c>, a histogram of a weight, names filtered by a pattern.
/// </summary>
internal static class StateDictSteps
{
    public static int Run(string fixtures, string outDir)
    {
        Directory.CreateDirectory(outDir);
        string npz = Path.Combine(outDir, "my_model_zeroed.npz");
        string svg = Path.Combine(outDir, "fc1_weight_hist.svg");
        var model = new MyModel();
        model.LoadWeights(Path.Combine(fixtures, "my_model.pth"));
        #region readme
        foreach (var (name, tensor) in model.state_dict())                // for k, v in model.state_dict().items():
            Console.WriteLine($"{name} {Printed.TorchSize(tensor.shape)}");  //     print(k, v.shape)

        using (no_grad())                                                 // with torch.no_grad():
            model.fc1.bias!.zero_();                                      //     model.fc1.bias.zero_()

        model.SaveWeights(npz);                                           // np.savez(npz, **{k: v.numpy() …})

        using var weights = model.AsModelFile();
        Histogram h = Histogram.Compute(weights.Tensors["fc1.weight"], bins: 10);   // np.histogram(w.flatten(), bins=10)
        Plot.Histogram([h]).Save(svg);                                    // plt.hist(…); plt.savefig(svg)
        Console.WriteLine($"counts: {string.Join(" ", h.Counts)}");
        Console.WriteLine($"edges: {string.Join(" ", h.Edges.Select(e => e.ToString("R", CultureInfo.InvariantCulture)))}");

        foreach (var t in weights.Tensors.Match("fc1*"))                  // [k for k in sd if fnmatch(k, "fc1*")]
            Console.WriteLine($"matches fc1*: {t.Name}");
        #endregion
        Console.WriteLine($"saved {npz}");
        Console.WriteLine($"saved {svg}");
        return 0;
    }
}
