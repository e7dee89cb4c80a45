import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 10


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 32), nn.ReLU(), nn.Linear(32, NUM_CLASSES))

    def forward(self, x):
        return self.net(x)


def main():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 8, 8)
    y = torch.randint(0, NUM_CLASSES, (64,))
    model = Net()
    optimizer = torch.optim.SGD(model.parameters(), lr=0.5, momentum=0.9)
    for epoch in range(50):
        for i in range(0, len(x), 16):
            xb, yb = x[i : i + 16], y[i : i + 16]
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            optimizer.step()


if __name__ == "__main__":
    main()
