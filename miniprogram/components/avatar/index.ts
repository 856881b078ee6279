// A role's avatar: the first character of the name, white on the role's colour.
Component({
  properties: {
    initial: { type: String, value: '' },
    color: { type: String, value: '#888888' },
    /** 'small' (the room header), 'medium' (messages) or 'large' (the role preview): index.wxss. */
    size: { type: String, value: 'medium' },
  },
});
