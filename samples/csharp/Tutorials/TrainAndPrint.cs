using WeightScope.Printing;
using WeightScope.Printing.Numpy;
using WeightScope.TorchSharp;
using static TorchSharp.torch;

namespace Tutorials;

/// <summary>
/// First tutorial: SimpleNN(10, 5, 1) trained for 10 epochs with SGD and MSE on seeded random data in batches of 10,
/// its parameters printed as <c>print(name, param.shape)</c>, <c>print(param)</c> and
/// <c>print(param.detach().numpy())</c> print them, and saved with <c>torch.save(model.state_dict(), …)</c>.
/// </summary>
internal static class TrainAndPrint
{
    public static int Run(string outDir)
    {
        Directory.CreateDirectory(outDir);
        string saved = Path.Combine(outDir, "simple_nn_model.pth");
        random.manual_seed(42);
        #region readme
        var model = new SimpleNN(10, 5, 1);
        var x = randn(100, 10);
        var y = randn(100, 1);
        var optimizer = optim.SGD(model.parameters(), learningRate: 0.01);
        var criterion = nn.MSELoss();
        for (int epoch = 0; epoch < 10; epoch++)
        {
            for (long start = 0; start < x.shape[0]; start += 10)    // DataLoader(TensorDataset(x, y), batch_size=10)
            {
                using var scope = NewDisposeScope();                  // frees each batch's tensors
                optimizer.zero_grad();
                var loss = criterion.forward(model.forward(x.narrow(0, start, 10)), y.narrow(0, start, 10));
                loss.backward();
                optimizer.step();
            }
        }

        using var weights = model.AsModelFile();                      // the live parameters, seen as a file's tensors
        foreach (var (name, param) in model.named_parameters())
        {
            Console.WriteLine($"{name} {Printed.TorchSize(param.shape)}");                 // print(name, param.shape)
            Console.WriteLine(TensorFormatter.FormatParameter(weights.Tensors[name]));     // print(param)
        }
        foreach (var (name, param) in model.named_parameters())
        {
            Console.WriteLine($"{name} {Printed.TorchSize(param.shape)}");                 // print(name, param.shape)
            Console.WriteLine(NumpyFormatter.Str(weights.Tensors[name]));                  // print(param.detach().numpy())
        }
        model.SaveWeights(saved);                                     // torch.save(model.state_dict(), saved)
        #endregion
        Console.WriteLine($"saved {saved}");
        return 0;
    }
}
