export type Json =
  | string
  | number
  | boolean
  | null
  | { [key: string]: Json | undefined }
  | Json[]

export type Database = {
  public: {
    Tables: {
      bans: {
        Row: {
          banned_by: string | null
          created_at: string
          openid: string
          reason: string
        }
        Insert: {
          banned_by?: string | null
          created_at?: string
          openid: string
          reason: string
        }
        Update: {
          banned_by?: string | null
          created_at?: string
          openid?: string
          reason?: string
        }
        Relationships: []
      }
      blocks: {
        Row: {
          blocked: string
          blocked_name: string
          blocker: string
          created_at: string
        }
        Insert: {
          blocked: string
          blocked_name: string
          blocker?: string
          created_at?: string
        }
        Update: {
          blocked?: string
          blocked_name?: string
          blocker?: string
          created_at?: string
        }
        Relationships: []
      }
      characters: {
        Row: {
          avatar_color: string
          changed_at: string
          created_at: string
          id: number
          label: number | null
          name: string
          note: string
          owner: string
          portrait_path: string | null
          status: string
        }
        Insert: {
          avatar_color: string
          changed_at?: string
          created_at?: string
          id?: never
          label?: number | null
          name: string
          note?: string
          owner?: string
          portrait_path?: string | null
          status?: string
        }
        Update: {
          avatar_color?: string
          changed_at?: string
          created_at?: string
          id?: never
          label?: number | null
          name?: string
          note?: string
          owner?: string
          portrait_path?: string | null
          status?: string
        }
        Relationships: []
      }
      hidden_rolls: {
        Row: {
          created_at: string
          message_id: number
          roll: NonNullable<Json>
          roller: string
          room_id: number
        }
        Insert: {
          created_at?: string
          message_id: number
          roll: NonNullable<Json>
          roller: string
          room_id: number
        }
        Update: {
          created_at?: string
          message_id?: number
          roll?: NonNullable<Json>
          roller?: string
          room_id?: number
        }
        Relationships: [
          {
            foreignKeyName: "hidden_rolls_message_id_fkey"
            columns: ["message_id"]
            isOneToOne: true
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "hidden_rolls_room_id_fkey"
            columns: ["room_id"]
            isOneToOne: false
            referencedRelation: "rooms"
            referencedColumns: ["id"]
          },
        ]
      }
      messages: {
        Row: {
          avatar_color: string
          body: string | null
          changed_at: string
          character_id: number | null
          client_id: string
          created_at: string
          hidden: boolean
          id: number
          image_height: number | null
          image_path: string | null
          image_width: number | null
          kind: string
          label: number | null
          reply_preview: Json | null
          reply_to: number | null
          roll: Json | null
          room_id: number
          status: string
          user_id: string
          username: string
        }
        Insert: {
          avatar_color: string
          body?: string | null
          changed_at?: string
          character_id?: number | null
          client_id: string
          created_at?: string
          hidden?: boolean
          id?: never
          image_height?: number | null
          image_path?: string | null
          image_width?: number | null
          kind?: string
          label?: number | null
          reply_preview?: Json | null
          reply_to?: number | null
          roll?: Json | null
          room_id: number
          status?: string
          user_id?: string
          username: string
        }
        Update: {
          avatar_color?: string
          body?: string | null
          changed_at?: string
          character_id?: number | null
          client_id?: string
          created_at?: string
          hidden?: boolean
          id?: never
          image_height?: number | null
          image_path?: string | null
          image_width?: number | null
          kind?: string
          label?: number | null
          reply_preview?: Json | null
          reply_to?: number | null
          roll?: Json | null
          room_id?: number
          status?: string
          user_id?: string
          username?: string
        }
        Relationships: [
          {
            foreignKeyName: "messages_character_id_fkey"
            columns: ["character_id"]
            isOneToOne: false
            referencedRelation: "characters"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_reply_to_fkey"
            columns: ["reply_to"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "messages_room_id_fkey"
            columns: ["room_id"]
            isOneToOne: false
            referencedRelation: "rooms"
            referencedColumns: ["id"]
          },
        ]
      }
      moderation_log: {
        Row: {
          action: string
          created_at: string
          id: number
          message_id: number | null
          moderator: string | null
          openid: string | null
          reason: string | null
        }
        Insert: {
          action: string
          created_at?: string
          id?: never
          message_id?: number | null
          moderator?: string | null
          openid?: string | null
          reason?: string | null
        }
        Update: {
          action?: string
          created_at?: string
          id?: never
          message_id?: number | null
          moderator?: string | null
          openid?: string | null
          reason?: string | null
        }
        Relationships: [
          {
            foreignKeyName: "moderation_log_message_id_fkey"
            columns: ["message_id"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
        ]
      }
      moderators: {
        Row: {
          created_at: string
          note: string
          user_id: string
        }
        Insert: {
          created_at?: string
          note?: string
          user_id: string
        }
        Update: {
          created_at?: string
          note?: string
          user_id?: string
        }
        Relationships: []
      }
      read_markers: {
        Row: {
          last_read_id: number
          person: string
          room_id: number
          updated_at: string
        }
        Insert: {
          last_read_id?: number
          person?: string
          room_id: number
          updated_at?: string
        }
        Update: {
          last_read_id?: number
          person?: string
          room_id?: number
          updated_at?: string
        }
        Relationships: [
          {
            foreignKeyName: "read_markers_room_id_fkey"
            columns: ["room_id"]
            isOneToOne: false
            referencedRelation: "rooms"
            referencedColumns: ["id"]
          },
        ]
      }
      reports: {
        Row: {
          created_at: string
          message_id: number
          reason: string
          reporter: string
          resolved: boolean
        }
        Insert: {
          created_at?: string
          message_id: number
          reason: string
          reporter?: string
          resolved?: boolean
        }
        Update: {
          created_at?: string
          message_id?: number
          reason?: string
          reporter?: string
          resolved?: boolean
        }
        Relationships: [
          {
            foreignKeyName: "reports_message_id_fkey"
            columns: ["message_id"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
        ]
      }
      rooms: {
        Row: {
          archived: boolean
          changed_at: string
          created_at: string
          host: string | null
          id: number
          label: number | null
          last_activity_at: string
          last_message_id: number | null
          pinned_message_id: number | null
          slug: string
          status: string
          title: string
          topic: string
        }
        Insert: {
          archived?: boolean
          changed_at?: string
          created_at?: string
          host?: string | null
          id?: never
          label?: number | null
          last_activity_at?: string
          last_message_id?: number | null
          pinned_message_id?: number | null
          slug?: string
          status?: string
          title: string
          topic?: string
        }
        Update: {
          archived?: boolean
          changed_at?: string
          created_at?: string
          host?: string | null
          id?: never
          label?: number | null
          last_activity_at?: string
          last_message_id?: number | null
          pinned_message_id?: number | null
          slug?: string
          status?: string
          title?: string
          topic?: string
        }
        Relationships: [
          {
            foreignKeyName: "rooms_last_message_id_fkey"
            columns: ["last_message_id"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
          {
            foreignKeyName: "rooms_pinned_message_id_fkey"
            columns: ["pinned_message_id"]
            isOneToOne: false
            referencedRelation: "messages"
            referencedColumns: ["id"]
          },
        ]
      }
    }
    Views: {
      [_ in never]: never
    }
    Functions: {
      archive_scene: { Args: { scene: number }; Returns: undefined }
      ban_author: { Args: { message: number; reason: string }; Returns: string }
      mark_read: {
        Args: { message: number; scene: number }
        Returns: undefined
      }
      moderate_message: {
        Args: { action: string; message: number }
        Returns: string
      }
      moderation_awaiting: {
        Args: { id: number; subject: string; trace: string }
        Returns: undefined
      }
      moderation_push_verdict: {
        Args: { suggest: string; trace: string; verdict_label: number }
        Returns: string
      }
      moderation_queue: {
        Args: { before_id?: number; page_size?: number }
        Returns: Json
      }
      moderation_retry: {
        Args: { error: string; id: number; subject: string }
        Returns: string
      }
      moderation_subject: {
        Args: { id: number; subject: string }
        Returns: Json
      }
      moderation_verdict: {
        Args: {
          id: number
          subject: string
          suggest: string
          verdict_label: number
        }
        Returns: string
      }
      pin_message: {
        Args: { message: number; scene: number }
        Returns: undefined
      }
      recall_message: { Args: { message: number }; Returns: undefined }
      save_character: {
        Args: {
          avatar_color: string
          character_id: number
          name: string
          note?: string
          portrait_path?: string
        }
        Returns: {
          avatar_color: string
          changed_at: string
          created_at: string
          id: number
          label: number | null
          name: string
          note: string
          owner: string
          portrait_path: string | null
          status: string
        }
        SetofOptions: {
          from: "*"
          to: "characters"
          isOneToOne: true
          isSetofReturn: false
        }
      }
      scene_list: {
        Args: {
          before_activity?: string
          before_id?: number
          page_size?: number
        }
        Returns: Json
      }
      unban: { Args: { person: string }; Returns: undefined }
      update_scene: {
        Args: { scene: number; title: string; topic: string }
        Returns: undefined
      }
      withheld_message: { Args: { message: number }; Returns: Json }
    }
    Enums: {
      [_ in never]: never
    }
    CompositeTypes: {
      [_ in never]: never
    }
  }
}

type DatabaseWithoutInternals = Omit<Database, "__InternalSupabase">

type DefaultSchema = DatabaseWithoutInternals[Extract<keyof Database, "public">]

export type Tables<
  DefaultSchemaTableNameOrOptions extends
    | keyof (DefaultSchema["Tables"] & DefaultSchema["Views"])
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
        DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? (DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"] &
      DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Views"])[TableName] extends {
      Row: infer R
    }
    ? R
    : never
  : DefaultSchemaTableNameOrOptions extends keyof (DefaultSchema["Tables"] &
        DefaultSchema["Views"])
    ? (DefaultSchema["Tables"] &
        DefaultSchema["Views"])[DefaultSchemaTableNameOrOptions] extends {
        Row: infer R
      }
      ? R
      : never
    : never

export type TablesInsert<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Insert: infer I
    }
    ? I
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Insert: infer I
      }
      ? I
      : never
    : never

export type TablesUpdate<
  DefaultSchemaTableNameOrOptions extends
    | keyof DefaultSchema["Tables"]
    | { schema: keyof DatabaseWithoutInternals },
  TableName extends (DefaultSchemaTableNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"]
    : never) = never,
> = DefaultSchemaTableNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaTableNameOrOptions["schema"]]["Tables"][TableName] extends {
      Update: infer U
    }
    ? U
    : never
  : DefaultSchemaTableNameOrOptions extends keyof DefaultSchema["Tables"]
    ? DefaultSchema["Tables"][DefaultSchemaTableNameOrOptions] extends {
        Update: infer U
      }
      ? U
      : never
    : never

export type Enums<
  DefaultSchemaEnumNameOrOptions extends
    | keyof DefaultSchema["Enums"]
    | { schema: keyof DatabaseWithoutInternals },
  EnumName extends (DefaultSchemaEnumNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"]
    : never) = never,
> = DefaultSchemaEnumNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[DefaultSchemaEnumNameOrOptions["schema"]]["Enums"][EnumName]
  : DefaultSchemaEnumNameOrOptions extends keyof DefaultSchema["Enums"]
    ? DefaultSchema["Enums"][DefaultSchemaEnumNameOrOptions]
    : never

export type CompositeTypes<
  PublicCompositeTypeNameOrOptions extends
    | keyof DefaultSchema["CompositeTypes"]
    | { schema: keyof DatabaseWithoutInternals },
  CompositeTypeName extends (PublicCompositeTypeNameOrOptions extends {
    schema: keyof DatabaseWithoutInternals
  }
    ? keyof DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"]
    : never) = never,
> = PublicCompositeTypeNameOrOptions extends {
  schema: keyof DatabaseWithoutInternals
}
  ? DatabaseWithoutInternals[PublicCompositeTypeNameOrOptions["schema"]]["CompositeTypes"][CompositeTypeName]
  : PublicCompositeTypeNameOrOptions extends keyof DefaultSchema["CompositeTypes"]
    ? DefaultSchema["CompositeTypes"][PublicCompositeTypeNameOrOptions]
    : never

export const Constants = {
  public: {
    Enums: {},
  },
} as const

