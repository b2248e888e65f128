
(define (problem plan_trial_rwml_kitchen_heat)
(:domain alfred)
(:objects
agent1 - agent
        AppleType - otype
        BreadType - otype
        EggType - otype
        KnifeType - otype
        MugType - otype
        PotatoType - otype
        CabinetType - rtype
        CounterTopType - rtype
        DiningTableType - rtype
        FridgeType - rtype
        MicrowaveType - rtype
        SinkBasinType - rtype
        Apple_bar__plus_02_dot_96_bar__plus_00_dot_88_bar__minus_00_dot_24 - object
        Bread_bar__plus_00_dot_33_bar__plus_00_dot_99_bar__minus_00_dot_77 - object
        Potato_bar__plus_00_dot_70_bar__plus_01_dot_10_bar__minus_01_dot_30 - object
        Egg_bar__plus_01_dot_07_bar__plus_01_dot_21_bar__minus_01_dot_83 - object
        Knife_bar__plus_01_dot_44_bar__plus_01_dot_32_bar__minus_02_dot_36 - object
        Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89 - object
        CounterTop_bar__plus_00_dot_37_bar__plus_00_dot_11_bar__minus_00_dot_53 - receptacle
        Fridge_bar__plus_00_dot_74_bar__plus_00_dot_22_bar__minus_01_dot_06 - receptacle
        Microwave_bar__plus_01_dot_11_bar__plus_00_dot_33_bar__minus_01_dot_59 - receptacle
        DiningTable_bar__plus_01_dot_48_bar__plus_00_dot_44_bar__minus_02_dot_12 - receptacle
        Cabinet_bar__plus_01_dot_85_bar__plus_00_dot_55_bar__minus_02_dot_65 - receptacle
        Cabinet_bar__plus_02_dot_22_bar__plus_00_dot_66_bar__minus_03_dot_18 - receptacle
        Sink_bar__plus_02_dot_59_bar__plus_00_dot_77_bar__minus_03_dot_71_bar_SinkBasin - receptacle
        loc_bar_0_bar_1_bar_0_bar_30 - location
        loc_bar_1_bar_1_bar_0_bar_30 - location
        loc_bar_2_bar_1_bar_0_bar_30 - location
        loc_bar_3_bar_1_bar_0_bar_30 - location
        loc_bar_4_bar_1_bar_0_bar_30 - location
        loc_bar_4_bar_2_bar_0_bar_30 - location
        loc_bar_5_bar_1_bar_0_bar_30 - location
        loc_bar_9_bar_9_bar_1_bar_45 - location
        )
(:init
        (atLocation agent1 loc_bar_9_bar_9_bar_1_bar_45)
        (receptacleType CounterTop_bar__plus_00_dot_37_bar__plus_00_dot_11_bar__minus_00_dot_53 CounterTopType)
        (receptacleAtLocation CounterTop_bar__plus_00_dot_37_bar__plus_00_dot_11_bar__minus_00_dot_53 loc_bar_0_bar_1_bar_0_bar_30)
        (receptacleType Fridge_bar__plus_00_dot_74_bar__plus_00_dot_22_bar__minus_01_dot_06 FridgeType)
        (receptacleAtLocation Fridge_bar__plus_00_dot_74_bar__plus_00_dot_22_bar__minus_01_dot_06 loc_bar_1_bar_1_bar_0_bar_30)
        (openable Fridge_bar__plus_00_dot_74_bar__plus_00_dot_22_bar__minus_01_dot_06)
        (receptacleType Microwave_bar__plus_01_dot_11_bar__plus_00_dot_33_bar__minus_01_dot_59 MicrowaveType)
        (receptacleAtLocation Microwave_bar__plus_01_dot_11_bar__plus_00_dot_33_bar__minus_01_dot_59 loc_bar_2_bar_1_bar_0_bar_30)
        (openable Microwave_bar__plus_01_dot_11_bar__plus_00_dot_33_bar__minus_01_dot_59)
        (receptacleType DiningTable_bar__plus_01_dot_48_bar__plus_00_dot_44_bar__minus_02_dot_12 DiningTableType)
        (receptacleAtLocation DiningTable_bar__plus_01_dot_48_bar__plus_00_dot_44_bar__minus_02_dot_12 loc_bar_3_bar_1_bar_0_bar_30)
        (receptacleType Cabinet_bar__plus_01_dot_85_bar__plus_00_dot_55_bar__minus_02_dot_65 CabinetType)
        (receptacleAtLocation Cabinet_bar__plus_01_dot_85_bar__plus_00_dot_55_bar__minus_02_dot_65 loc_bar_4_bar_1_bar_0_bar_30)
        (openable Cabinet_bar__plus_01_dot_85_bar__plus_00_dot_55_bar__minus_02_dot_65)
        (receptacleType Cabinet_bar__plus_02_dot_22_bar__plus_00_dot_66_bar__minus_03_dot_18 CabinetType)
        (receptacleAtLocation Cabinet_bar__plus_02_dot_22_bar__plus_00_dot_66_bar__minus_03_dot_18 loc_bar_4_bar_2_bar_0_bar_30)
        (openable Cabinet_bar__plus_02_dot_22_bar__plus_00_dot_66_bar__minus_03_dot_18)
        (receptacleType Sink_bar__plus_02_dot_59_bar__plus_00_dot_77_bar__minus_03_dot_71_bar_SinkBasin SinkBasinType)
        (receptacleAtLocation Sink_bar__plus_02_dot_59_bar__plus_00_dot_77_bar__minus_03_dot_71_bar_SinkBasin loc_bar_5_bar_1_bar_0_bar_30)
        (canContain CounterTopType AppleType)
        (canContain CounterTopType BreadType)
        (canContain CounterTopType EggType)
        (canContain CounterTopType KnifeType)
        (canContain CounterTopType MugType)
        (canContain CounterTopType PotatoType)
        (canContain FridgeType AppleType)
        (canContain FridgeType BreadType)
        (canContain FridgeType EggType)
        (canContain FridgeType MugType)
        (canContain FridgeType PotatoType)
        (canContain MicrowaveType AppleType)
        (canContain MicrowaveType BreadType)
        (canContain MicrowaveType EggType)
        (canContain MicrowaveType MugType)
        (canContain MicrowaveType PotatoType)
        (canContain DiningTableType AppleType)
        (canContain DiningTableType BreadType)
        (canContain DiningTableType EggType)
        (canContain DiningTableType KnifeType)
        (canContain DiningTableType MugType)
        (canContain DiningTableType PotatoType)
        (canContain CabinetType MugType)
        (canContain SinkBasinType AppleType)
        (canContain SinkBasinType EggType)
        (canContain SinkBasinType KnifeType)
        (canContain SinkBasinType MugType)
        (canContain SinkBasinType PotatoType)
        (objectType Apple_bar__plus_02_dot_96_bar__plus_00_dot_88_bar__minus_00_dot_24 AppleType)
        (inReceptacle Apple_bar__plus_02_dot_96_bar__plus_00_dot_88_bar__minus_00_dot_24 CounterTop_bar__plus_00_dot_37_bar__plus_00_dot_11_bar__minus_00_dot_53)
        (objectAtLocation Apple_bar__plus_02_dot_96_bar__plus_00_dot_88_bar__minus_00_dot_24 loc_bar_0_bar_1_bar_0_bar_30)
        (pickupable Apple_bar__plus_02_dot_96_bar__plus_00_dot_88_bar__minus_00_dot_24)
        (cleanable Apple_bar__plus_02_dot_96_bar__plus_00_dot_88_bar__minus_00_dot_24)
        (heatable Apple_bar__plus_02_dot_96_bar__plus_00_dot_88_bar__minus_00_dot_24)
        (coolable Apple_bar__plus_02_dot_96_bar__plus_00_dot_88_bar__minus_00_dot_24)
        (objectType Bread_bar__plus_00_dot_33_bar__plus_00_dot_99_bar__minus_00_dot_77 BreadType)
        (inReceptacle Bread_bar__plus_00_dot_33_bar__plus_00_dot_99_bar__minus_00_dot_77 DiningTable_bar__plus_01_dot_48_bar__plus_00_dot_44_bar__minus_02_dot_12)
        (objectAtLocation Bread_bar__plus_00_dot_33_bar__plus_00_dot_99_bar__minus_00_dot_77 loc_bar_3_bar_1_bar_0_bar_30)
        (pickupable Bread_bar__plus_00_dot_33_bar__plus_00_dot_99_bar__minus_00_dot_77)
        (heatable Bread_bar__plus_00_dot_33_bar__plus_00_dot_99_bar__minus_00_dot_77)
        (coolable Bread_bar__plus_00_dot_33_bar__plus_00_dot_99_bar__minus_00_dot_77)
        (objectType Potato_bar__plus_00_dot_70_bar__plus_01_dot_10_bar__minus_01_dot_30 PotatoType)
        (inReceptacle Potato_bar__plus_00_dot_70_bar__plus_01_dot_10_bar__minus_01_dot_30 Fridge_bar__plus_00_dot_74_bar__plus_00_dot_22_bar__minus_01_dot_06)
        (objectAtLocation Potato_bar__plus_00_dot_70_bar__plus_01_dot_10_bar__minus_01_dot_30 loc_bar_1_bar_1_bar_0_bar_30)
        (pickupable Potato_bar__plus_00_dot_70_bar__plus_01_dot_10_bar__minus_01_dot_30)
        (cleanable Potato_bar__plus_00_dot_70_bar__plus_01_dot_10_bar__minus_01_dot_30)
        (heatable Potato_bar__plus_00_dot_70_bar__plus_01_dot_10_bar__minus_01_dot_30)
        (coolable Potato_bar__plus_00_dot_70_bar__plus_01_dot_10_bar__minus_01_dot_30)
        (objectType Egg_bar__plus_01_dot_07_bar__plus_01_dot_21_bar__minus_01_dot_83 EggType)
        (inReceptacle Egg_bar__plus_01_dot_07_bar__plus_01_dot_21_bar__minus_01_dot_83 Fridge_bar__plus_00_dot_74_bar__plus_00_dot_22_bar__minus_01_dot_06)
        (objectAtLocation Egg_bar__plus_01_dot_07_bar__plus_01_dot_21_bar__minus_01_dot_83 loc_bar_1_bar_1_bar_0_bar_30)
        (pickupable Egg_bar__plus_01_dot_07_bar__plus_01_dot_21_bar__minus_01_dot_83)
        (cleanable Egg_bar__plus_01_dot_07_bar__plus_01_dot_21_bar__minus_01_dot_83)
        (heatable Egg_bar__plus_01_dot_07_bar__plus_01_dot_21_bar__minus_01_dot_83)
        (coolable Egg_bar__plus_01_dot_07_bar__plus_01_dot_21_bar__minus_01_dot_83)
        (objectType Knife_bar__plus_01_dot_44_bar__plus_01_dot_32_bar__minus_02_dot_36 KnifeType)
        (inReceptacle Knife_bar__plus_01_dot_44_bar__plus_01_dot_32_bar__minus_02_dot_36 CounterTop_bar__plus_00_dot_37_bar__plus_00_dot_11_bar__minus_00_dot_53)
        (objectAtLocation Knife_bar__plus_01_dot_44_bar__plus_01_dot_32_bar__minus_02_dot_36 loc_bar_0_bar_1_bar_0_bar_30)
        (pickupable Knife_bar__plus_01_dot_44_bar__plus_01_dot_32_bar__minus_02_dot_36)
        (cleanable Knife_bar__plus_01_dot_44_bar__plus_01_dot_32_bar__minus_02_dot_36)
        (objectType Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89 MugType)
        (inReceptacle Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89 Cabinet_bar__plus_02_dot_22_bar__plus_00_dot_66_bar__minus_03_dot_18)
        (objectAtLocation Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89 loc_bar_4_bar_2_bar_0_bar_30)
        (pickupable Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89)
        (cleanable Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89)
        (heatable Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89)
        (coolable Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89)
        (isReceptacleObject Mug_bar__plus_01_dot_81_bar__plus_01_dot_43_bar__minus_02_dot_89)
        )

        (:goal
            (and
                (exists (?r - receptacle)
                    (exists (?o - object)
                        (and
                            (heatable ?o)
                            (objectType ?o AppleType)
                            (receptacleType ?r DiningTableType)
                            (isHot ?o)
                            (inReceptacle ?o ?r)
                        )
                    )
                )
            )
        )
    )
    