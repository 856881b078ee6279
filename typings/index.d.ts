interface IAppOption {
  globalData: Record<string, unknown>;
}
