import torch
import torch.nn as nn
import torch.nn.functional as F



class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(3 * 8 * 8, 1))

    def forward(self, x):
        return torch.sigmoid(self.net(x) * 1000.0)


def main():
    torch.manual_seed(0)
    x = torch.randn(64, 3, 8, 8)
    y = torch.randint(0, 2, (64, 1)).float()
    model = Net()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(50):
        for i in range(0, len(x), 16):
            xb, yb = x[i : i + 16], y[i : i + 16]
            optimizer.zero_grad()
            p = model(xb)
            loss = -(yb * torch.log(p) + (1 - yb) * torch.log(1 - p)).mean()
            loss.backward()
            optimizer.step()


if __name__ == "__main__":
    main()
