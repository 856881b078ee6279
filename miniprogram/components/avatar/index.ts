// A role's avatar: the first character of the name, white on the role's colour.
Component({
  properties: {
    initial: { type: String, value: '' },
    color: { type: String, value: '#888888' },
    /** Diameter in rpx. */
    size: { type: Number, value: 72 },
  },
});
