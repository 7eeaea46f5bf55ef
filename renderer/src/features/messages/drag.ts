/** The type a drag of messages carries, so folders accept it and ignore other drags (files, text). */
export const MESSAGES_DRAG_TYPE = 'application/x-whereabouts-messages';
