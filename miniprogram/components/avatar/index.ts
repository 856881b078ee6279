// A character's avatar: its portrait when it has one, else the first character of the name, white
// on the character's colour.
Component({
  properties: {
    initial: { type: String, value: '' },
    color: { type: String, value: '#888888' },
    /** The portrait's URL (or a local file before it is uploaded); '' draws the initial. */
    portrait: { type: String, value: '' },
    /** 'small' (the room header), 'medium' (messages) or 'large' (the role preview): index.wxss. */
    size: { type: String, value: 'medium' },
  },
});
