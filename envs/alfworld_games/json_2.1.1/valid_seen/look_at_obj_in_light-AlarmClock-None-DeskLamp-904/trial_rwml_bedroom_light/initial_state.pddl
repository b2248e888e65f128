
(define (problem plan_trial_rwml_bedroom_light)
(:domain alfred)
(:objects
agent1 - agent
        AlarmClockType - otype
        BookType - otype
        CellPhoneType - otype
        DeskLampType - otype
        PenType - otype
        PillowType - otype
        BedType - rtype
        DeskType - rtype
        DrawerType - rtype
        ShelfType - rtype
        SideTableType - rtype
        AlarmClock_bar__plus_01_dot_28_bar__plus_00_dot_84_bar__minus_03_dot_32 - object
        DeskLamp_bar__plus_01_dot_65_bar__plus_00_dot_95_bar__minus_03_dot_85 - object
        Book_bar__plus_02_dot_02_bar__plus_01_dot_06_bar__minus_00_dot_38 - object
        Pillow_bar__plus_02_dot_39_bar__plus_01_dot_17_bar__minus_00_dot_91 - object
        CellPhone_bar__plus_02_dot_76_bar__plus_01_dot_28_bar__minus_01_dot_44 - object
        Pen_bar__plus_00_dot_13_bar__plus_01_dot_39_bar__minus_01_dot_97 - object
        Desk_bar__plus_02_dot_06_bar__plus_00_dot_18_bar__minus_00_dot_14 - receptacle
        SideTable_bar__plus_02_dot_43_bar__plus_00_dot_29_bar__minus_00_dot_67 - receptacle
        Bed_bar__plus_02_dot_80_bar__plus_00_dot_40_bar__minus_01_dot_20 - receptacle
        Drawer_bar__plus_00_dot_17_bar__plus_00_dot_51_bar__minus_01_dot_73 - receptacle
        Drawer_bar__plus_00_dot_54_bar__plus_00_dot_62_bar__minus_02_dot_26 - receptacle
        Shelf_bar__plus_00_dot_91_bar__plus_00_dot_73_bar__minus_02_dot_79 - receptacle
        loc_bar_0_bar_1_bar_0_bar_30 - location
        loc_bar_1_bar_1_bar_0_bar_30 - location
        loc_bar_2_bar_1_bar_0_bar_30 - location
        loc_bar_3_bar_1_bar_0_bar_30 - location
        loc_bar_3_bar_2_bar_0_bar_30 - location
        loc_bar_4_bar_1_bar_0_bar_30 - location
        loc_bar_9_bar_9_bar_1_bar_45 - location
        )
(:init
        (atLocation agent1 loc_bar_9_bar_9_bar_1_bar_45)
        (receptacleType Desk_bar__plus_02_dot_06_bar__plus_00_dot_18_bar__minus_00_dot_14 DeskType)
        (receptacleAtLocation Desk_bar__plus_02_dot_06_bar__plus_00_dot_18_bar__minus_00_dot_14 loc_bar_0_bar_1_bar_0_bar_30)
        (receptacleType SideTable_bar__plus_02_dot_43_bar__plus_00_dot_29_bar__minus_00_dot_67 SideTableType)
        (receptacleAtLocation SideTable_bar__plus_02_dot_43_bar__plus_00_dot_29_bar__minus_00_dot_67 loc_bar_1_bar_1_bar_0_bar_30)
        (receptacleType Bed_bar__plus_02_dot_80_bar__plus_00_dot_40_bar__minus_01_dot_20 BedType)
        (receptacleAtLocation Bed_bar__plus_02_dot_80_bar__plus_00_dot_40_bar__minus_01_dot_20 loc_bar_2_bar_1_bar_0_bar_30)
        (receptacleType Drawer_bar__plus_00_dot_17_bar__plus_00_dot_51_bar__minus_01_dot_73 DrawerType)
        (receptacleAtLocation Drawer_bar__plus_00_dot_17_bar__plus_00_dot_51_bar__minus_01_dot_73 loc_bar_3_bar_1_bar_0_bar_30)
        (openable Drawer_bar__plus_00_dot_17_bar__plus_00_dot_51_bar__minus_01_dot_73)
        (receptacleType Drawer_bar__plus_00_dot_54_bar__plus_00_dot_62_bar__minus_02_dot_26 DrawerType)
        (receptacleAtLocation Drawer_bar__plus_00_dot_54_bar__plus_00_dot_62_bar__minus_02_dot_26 loc_bar_3_bar_2_bar_0_bar_30)
        (openable Drawer_bar__plus_00_dot_54_bar__plus_00_dot_62_bar__minus_02_dot_26)
        (receptacleType Shelf_bar__plus_00_dot_91_bar__plus_00_dot_73_bar__minus_02_dot_79 ShelfType)
        (receptacleAtLocation Shelf_bar__plus_00_dot_91_bar__plus_00_dot_73_bar__minus_02_dot_79 loc_bar_4_bar_1_bar_0_bar_30)
        (canContain DeskType AlarmClockType)
        (canContain DeskType BookType)
        (canContain DeskType CellPhoneType)
        (canContain DeskType PenType)
        (canContain SideTableType AlarmClockType)
        (canContain SideTableType BookType)
        (canContain SideTableType CellPhoneType)
        (canContain SideTableType PenType)
        (canContain BedType BookType)
        (canContain BedType CellPhoneType)
        (canContain BedType PillowType)
        (canContain DrawerType BookType)
        (canContain DrawerType CellPhoneType)
        (canContain DrawerType PenType)
        (canContain ShelfType AlarmClockType)
        (canContain ShelfType BookType)
        (canContain ShelfType CellPhoneType)
        (canContain ShelfType PenType)
        (objectType AlarmClock_bar__plus_01_dot_28_bar__plus_00_dot_84_bar__minus_03_dot_32 AlarmClockType)
        (inReceptacle AlarmClock_bar__plus_01_dot_28_bar__plus_00_dot_84_bar__minus_03_dot_32 Desk_bar__plus_02_dot_06_bar__plus_00_dot_18_bar__minus_00_dot_14)
        (objectAtLocation AlarmClock_bar__plus_01_dot_28_bar__plus_00_dot_84_bar__minus_03_dot_32 loc_bar_0_bar_1_bar_0_bar_30)
        (pickupable AlarmClock_bar__plus_01_dot_28_bar__plus_00_dot_84_bar__minus_03_dot_32)
        (objectType DeskLamp_bar__plus_01_dot_65_bar__plus_00_dot_95_bar__minus_03_dot_85 DeskLampType)
        (inReceptacle DeskLamp_bar__plus_01_dot_65_bar__plus_00_dot_95_bar__minus_03_dot_85 SideTable_bar__plus_02_dot_43_bar__plus_00_dot_29_bar__minus_00_dot_67)
        (objectAtLocation DeskLamp_bar__plus_01_dot_65_bar__plus_00_dot_95_bar__minus_03_dot_85 loc_bar_1_bar_1_bar_0_bar_30)
        (toggleable DeskLamp_bar__plus_01_dot_65_bar__plus_00_dot_95_bar__minus_03_dot_85)
        (objectType Book_bar__plus_02_dot_02_bar__plus_01_dot_06_bar__minus_00_dot_38 BookType)
        (inReceptacle Book_bar__plus_02_dot_02_bar__plus_01_dot_06_bar__minus_00_dot_38 Bed_bar__plus_02_dot_80_bar__plus_00_dot_40_bar__minus_01_dot_20)
        (objectAtLocation Book_bar__plus_02_dot_02_bar__plus_01_dot_06_bar__minus_00_dot_38 loc_bar_2_bar_1_bar_0_bar_30)
        (pickupable Book_bar__plus_02_dot_02_bar__plus_01_dot_06_bar__minus_00_dot_38)
        (objectType Pillow_bar__plus_02_dot_39_bar__plus_01_dot_17_bar__minus_00_dot_91 PillowType)
        (inReceptacle Pillow_bar__plus_02_dot_39_bar__plus_01_dot_17_bar__minus_00_dot_91 Bed_bar__plus_02_dot_80_bar__plus_00_dot_40_bar__minus_01_dot_20)
        (objectAtLocation Pillow_bar__plus_02_dot_39_bar__plus_01_dot_17_bar__minus_00_dot_91 loc_bar_2_bar_1_bar_0_bar_30)
        (pickupable Pillow_bar__plus_02_dot_39_bar__plus_01_dot_17_bar__minus_00_dot_91)
        (objectType CellPhone_bar__plus_02_dot_76_bar__plus_01_dot_28_bar__minus_01_dot_44 CellPhoneType)
        (inReceptacle CellPhone_bar__plus_02_dot_76_bar__plus_01_dot_28_bar__minus_01_dot_44 Drawer_bar__plus_00_dot_54_bar__plus_00_dot_62_bar__minus_02_dot_26)
        (objectAtLocation CellPhone_bar__plus_02_dot_76_bar__plus_01_dot_28_bar__minus_01_dot_44 loc_bar_3_bar_2_bar_0_bar_30)
        (pickupable CellPhone_bar__plus_02_dot_76_bar__plus_01_dot_28_bar__minus_01_dot_44)
        (objectType Pen_bar__plus_00_dot_13_bar__plus_01_dot_39_bar__minus_01_dot_97 PenType)
        (inReceptacle Pen_bar__plus_00_dot_13_bar__plus_01_dot_39_bar__minus_01_dot_97 Shelf_bar__plus_00_dot_91_bar__plus_00_dot_73_bar__minus_02_dot_79)
        (objectAtLocation Pen_bar__plus_00_dot_13_bar__plus_01_dot_39_bar__minus_01_dot_97 loc_bar_4_bar_1_bar_0_bar_30)
        (pickupable Pen_bar__plus_00_dot_13_bar__plus_01_dot_39_bar__minus_01_dot_97)
        )

        (:goal
             (and
                 (exists (?ot - object
                          ?r - receptacle
                          ?a - agent
                          ?l - location)
                     (and
                         (objectType ?ot DeskLampType)
                         (toggleable ?ot)
                         (isToggled ?ot)
                         (receptacleAtLocation ?r ?l)
                         (atLocation ?a ?l)
                         (inReceptacle ?ot ?r)
                     )
                 )
                 (exists (?o - object
                          ?a - agent)
                     (and
                         (objectType ?o AlarmClockType)
                         (holds ?a ?o)
                     )
                 )
             )
        )
    )
    